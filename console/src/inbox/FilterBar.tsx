import { useState, type FormEvent } from "react";
import { useT } from "../i18n";
import { CHANNELS, PRIORITIES, STAGES, STATUSES } from "../ticket/labels";
import { useDirectory } from "../ticket/useDirectory";
import { useLabels } from "../ticket/useLabels";
import type { FilterKey, Filters } from "./filters";
import { inboxMessages } from "./messages";
import { SaveViewForm } from "./SaveViewForm";

interface Props {
  /** on a narrow screen the bar folds away behind a "Filters" button */
  open: boolean;
  filters: Filters;
  onChange: (key: FilterKey, value: string) => void;
  onClear: () => void;
  onSave: (name: string) => Promise<void>;
}

interface Option {
  value: string;
  label: string;
}

function FilterSelect({ name, label, value, options, onChange }: {
  name: FilterKey; label: string; value: string | undefined; options: Option[]; onChange: Props["onChange"];
}) {
  const t = useT(inboxMessages);
  const known = !value || options.some((option) => option.value === value);
  return (
    <label className="filter">
      <span>{label}</span>
      <select name={name} data-testid={`filter-${name}`} value={value ?? ""} onChange={(e) => onChange(name, e.target.value)}>
        <option value="">{t("any")}</option>
        {options.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
        {!known && value && <option value={value}>{value}</option>}
      </select>
    </label>
  );
}

/** The list's filters as selects; every change goes to the URL. */
export function FilterBar({ open, filters, onChange, onClear, onSave }: Props) {
  const t = useT(inboxMessages);
  const labels = useLabels();
  const directory = useDirectory();
  const [tag, setTag] = useState(filters.tag ?? "");
  const [tagFor, setTagFor] = useState(filters.tag);
  if (tagFor !== filters.tag) {
    setTagFor(filters.tag);
    setTag(filters.tag ?? "");
  }
  const submitTag = (event: FormEvent) => {
    event.preventDefault();
    onChange("tag", tag.trim().toLowerCase());
  };
  const assignees: Option[] = [
    { value: "me", label: t("assignee_me") }, { value: "none", label: t("assignee_none") },
    ...(directory.agentsListed ? directory.agents.map((agent) => ({ value: agent.id, label: agent.name })) : []),
  ];
  const groups: Option[] = [
    { value: "mine", label: t("group_mine") },
    ...directory.groups.map((group) => ({ value: group.id, label: group.name })),
  ];

  return (
    <div id="inbox-filters" className={`filter-bar${open ? " open" : ""}`} role="search" aria-label={t("filters")}>
      <FilterSelect name="status" label={t("status")} value={filters.status} onChange={onChange}
                    options={STATUSES.map((value) => ({ value, label: labels.status(value) }))} />
      <FilterSelect name="stage" label={t("stage")} value={filters.stage} onChange={onChange}
                    options={STAGES.map((value) => ({ value, label: labels.stage(value) }))} />
      <FilterSelect name="priority" label={t("priority")} value={filters.priority} onChange={onChange}
                    options={PRIORITIES.map((value) => ({ value, label: labels.priority(value) }))} />
      <FilterSelect name="channel" label={t("channel")} value={filters.channel} onChange={onChange}
                    options={CHANNELS.map((value) => ({ value, label: labels.channel(value) }))} />
      <FilterSelect name="assignee" label={t("assignee")} value={filters.assignee} onChange={onChange} options={assignees} />
      <FilterSelect name="group" label={t("group")} value={filters.group} onChange={onChange} options={groups} />
      <FilterSelect name="sla" label={t("sla")} value={filters.sla} onChange={onChange}
                    options={[{ value: "at_risk", label: t("sla_at_risk") }, { value: "breached", label: t("sla_breached") }]} />
      <form className="filter" onSubmit={submitTag}>
        <label htmlFor="filter-tag">{t("tag")}</label>
        <input id="filter-tag" data-testid="filter-tag" value={tag} placeholder={t("tagPlaceholder")} size={10}
               onChange={(e) => setTag(e.target.value)} onBlur={() => tag.trim() !== (filters.tag ?? "") && onChange("tag", tag.trim().toLowerCase())} />
      </form>
      <div className="filter-actions">
        <button type="button" className="link" onClick={onClear}>{t("clear")}</button>
        <SaveViewForm filters={filters} onSave={onSave} />
      </div>
    </div>
  );
}
