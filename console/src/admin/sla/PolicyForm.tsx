// Create or change an SLA policy: when it applies, its targets per priority, and whether
// it counts business hours of a calendar.
import { useState, type FormEvent } from "react";
import type { Priority } from "../../api/types";
import { useT } from "../../i18n";
import { savePolicy } from "../api/sla";
import type { Calendar, Group, Metric, SlaPolicy, SlaPolicyFields, SlaTargets } from "../api/types";
import { FormFooter } from "../common/FormFooter";
import { Field } from "../common/Field";
import { ListInput } from "../common/ListInput";
import { Modal } from "../common/Modal";
import { MultiCheck } from "../common/MultiCheck";
import { useAction } from "../common/useAction";
import { adminMessages } from "../messages";

const priorities: Priority[] = ["urgent", "high", "normal", "low"];
const metrics: Metric[] = ["first_response_minutes", "next_response_minutes", "resolution_minutes"];
type Grid = Record<Priority, Record<Metric, string>>;

interface Props {
  policy: SlaPolicy | null;
  calendars: Calendar[];
  groups: Group[];
  onClose: () => void;
  onSaved: () => void;
}

function gridOf(policy: SlaPolicy | null): Grid {
  const grid = {} as Grid;
  for (const priority of priorities) {
    grid[priority] = {} as Record<Metric, string>;
    for (const metric of metrics) {
      const minutes = policy?.targets[priority]?.[metric];
      grid[priority][metric] = minutes ? String(minutes) : "";
    }
  }
  return grid;
}

function targetsOf(grid: Grid): SlaPolicyFields["targets"] {
  const targets: SlaPolicyFields["targets"] = {};
  for (const priority of priorities) {
    const row: SlaTargets = {};
    for (const metric of metrics) if (grid[priority][metric] !== "") row[metric] = Number(grid[priority][metric]);
    if (Object.keys(row).length) targets[priority] = row;
  }
  return targets;
}

export function PolicyForm({ policy, calendars, groups, onClose, onSaved }: Props) {
  const t = useT(adminMessages);
  const [name, setName] = useState(policy?.name ?? "");
  const [position, setPosition] = useState(String(policy?.position ?? 0));
  const [conditions, setConditions] = useState<SlaPolicyFields["conditions"]>(policy?.conditions ?? {});
  const [businessHours, setBusinessHours] = useState(policy?.business_hours ?? false);
  const [calendarId, setCalendarId] = useState(policy?.calendar_id ?? "");
  const [grid, setGrid] = useState<Grid>(() => gridOf(policy));
  const [tried, setTried] = useState(false);
  const targets = targetsOf(grid);
  const badMinutes = Object.values(grid).some((row) =>
    Object.values(row).some((text) => text !== "" && (!Number.isInteger(Number(text)) || Number(text) < 1)));
  const problems = {
    name: !name.trim() ? t("required") : null,
    targets: !Object.keys(targets).length ? t("needTarget") : badMinutes ? t("tooSmall", { min: 1 }) : null,
    calendar: businessHours && !calendarId ? t("needCalendar") : null,
  };
  const setCondition = (patch: SlaPolicyFields["conditions"]) => setConditions({ ...conditions, ...patch });
  const setCell = (priority: Priority, metric: Metric, text: string) =>
    setGrid({ ...grid, [priority]: { ...grid[priority], [metric]: text } });
  const save = useAction(async () => {
    await savePolicy({
      name: name.trim(), position: Number(position) || 0, conditions, business_hours: businessHours,
      calendar_id: calendarId || null, targets,
    }, policy ?? undefined);
    onSaved();
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (!Object.values(problems).some(Boolean)) void save.run();
  }

  return (
    <Modal title={policy ? t("editPolicy") : t("newPolicy")} onClose={onClose} wide testId="policy-form">
      <form className="admin-form" onSubmit={submit} noValidate>
        <div className="admin-row">
          <Field label={t("name")} problem={tried ? problems.name : null}>
            <input value={name} maxLength={100} data-testid="policy-name" autoFocus onChange={(event) => setName(event.target.value)} />
          </Field>
          <Field label={t("position")}>
            <input type="number" min={0} value={position} data-testid="policy-position" onChange={(event) => setPosition(event.target.value)} />
          </Field>
        </div>
        <fieldset>
          <legend>{t("conditions")}</legend>
          <Field label={t("priorities")}>
            <MultiCheck options={priorities.map((value) => ({ value, label: value }))} value={conditions.priorities ?? []}
                        onChange={(list) => setCondition({ priorities: list })} />
          </Field>
          <div className="admin-row">
            <Field label={t("channels")} hint={t("commaHint")}>
              <ListInput value={conditions.channels ?? []} onChange={(list) => setCondition({ channels: list })} testId="policy-channels" />
            </Field>
            <Field label={t("customerTags")} hint={t("commaHint")}>
              <ListInput value={conditions.customer_tags ?? []} onChange={(list) => setCondition({ customer_tags: list })} />
            </Field>
            <Field label={t("categories")} hint={t("commaHint")}>
              <ListInput value={conditions.categories ?? []} onChange={(list) => setCondition({ categories: list })} />
            </Field>
          </div>
          {groups.length > 0 && (
            <Field label={t("groups")}>
              <MultiCheck options={groups.map((group) => ({ value: group.id, label: group.name }))}
                          value={conditions.group_ids ?? []} onChange={(list) => setCondition({ group_ids: list })} />
            </Field>
          )}
        </fieldset>
        <fieldset>
          <legend>{t("targets")}</legend>
          <table className="admin-table admin-targets">
            <thead>
              <tr><th>{t("priority")}</th><th>{t("firstResponse")}</th><th>{t("nextResponse")}</th><th>{t("resolution")}</th></tr>
            </thead>
            <tbody>
              {priorities.map((priority) => (
                <tr key={priority}>
                  <td>{priority}</td>
                  {metrics.map((metric) => (
                    <td key={metric}>
                      <input type="number" min={1} value={grid[priority][metric]} placeholder={t("minutes")}
                             data-testid={`policy-target-${priority}-${metric}`}
                             onChange={(event) => setCell(priority, metric, event.target.value)} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {tried && problems.targets && <small className="problem admin-error">{problems.targets}</small>}
        </fieldset>
        <div className="admin-row">
          <label className="admin-check">
            <input type="checkbox" checked={businessHours} data-testid="policy-business-hours"
                   onChange={(event) => setBusinessHours(event.target.checked)} />
            {t("useBusinessHours")}
          </label>
          <Field label={t("calendar")} problem={tried ? problems.calendar : null}>
            <select value={calendarId} data-testid="policy-calendar" onChange={(event) => setCalendarId(event.target.value)}>
              <option value="">{t("none")}</option>
              {calendars.map((calendar) => <option key={calendar.id} value={calendar.id}>{calendar.name}</option>)}
            </select>
          </Field>
        </div>
        <FormFooter error={save.error} busy={save.busy} onClose={onClose} testId="policy-save" />
      </form>
    </Modal>
  );
}
