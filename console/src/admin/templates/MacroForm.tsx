// Create or change a macro: a ticket change (status, priority, assignee incl. "@me",
// group, tags, category), a template reply and an internal note.
import { useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { listAgents, listGroups } from "../api/agents";
import { saveMacro } from "../api/templates";
import type { Macro, MacroActions, ReplyTemplate } from "../api/types";
import { FormFooter } from "../common/FormFooter";
import { Field } from "../common/Field";
import { ListInput } from "../common/ListInput";
import { Modal } from "../common/Modal";
import { useAction } from "../common/useAction";
import { useLoad } from "../common/useLoad";
import { adminMessages } from "../messages";
import { PRIORITIES, STATUSES } from "../rules/steps";

type Patch = NonNullable<MacroActions["patch"]>;
const KEEP = "";
const CLEAR = "\u0000clear";
const activeAgents = () => listAgents(false);

interface Props {
  macro: Macro | null;
  templates: ReplyTemplate[];
  onClose: () => void;
  onSaved: () => void;
}

/** A select's value for a patch field: left out (keep), null (clear) or a value. */
function choice(patch: Patch, key: keyof Patch): string {
  if (!(key in patch) || patch[key] === undefined) return KEEP;
  return patch[key] === null ? CLEAR : String(patch[key]);
}

function withChoice(patch: Patch, key: keyof Patch, value: string): Patch {
  const next: Patch = { ...patch };
  if (value === KEEP) delete next[key];
  else Object.assign(next, { [key]: value === CLEAR ? null : value });
  return next;
}

export function MacroForm({ macro, templates, onClose, onSaved }: Props) {
  const t = useT(adminMessages);
  const groups = useLoad(listGroups);
  const agents = useLoad(activeAgents);
  const [name, setName] = useState(macro?.name ?? "");
  const [description, setDescription] = useState(macro?.description ?? "");
  const [patch, setPatch] = useState<Patch>(macro?.actions.patch ?? {});
  const [reply, setReply] = useState(macro?.actions.reply_template ?? "");
  const [note, setNote] = useState(macro?.actions.note ?? "");
  const [tried, setTried] = useState(false);
  const save = useAction(async () => {
    const clean: Patch = { ...patch };
    if (!clean.add_tags?.length) delete clean.add_tags;
    if (!clean.remove_tags?.length) delete clean.remove_tags;
    const actions: MacroActions = { patch: clean, reply_template: reply || null, note: note.trim() || null };
    await saveMacro({ name: name.trim(), description, actions }, macro ?? undefined);
    onSaved();
  });
  const select = (key: keyof Patch, options: { value: string; label: string }[], clearable = false) => (
    <select value={choice(patch, key)} data-testid={`macro-${key}`} onChange={(event) => setPatch(withChoice(patch, key, event.target.value))}>
      <option value={KEEP}>{t("keep")}</option>
      {clearable && <option value={CLEAR}>{t("clear")}</option>}
      {options.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
    </select>
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (name.trim()) void save.run();
  }

  return (
    <Modal title={macro ? t("editMacro") : t("newMacro")} onClose={onClose} wide testId="macro-form">
      <form className="admin-form" onSubmit={submit} noValidate>
        <div className="admin-row">
          <Field label={t("name")} problem={tried && !name.trim() ? t("required") : null}>
            <input value={name} maxLength={100} data-testid="macro-name" autoFocus onChange={(event) => setName(event.target.value)} />
          </Field>
          <Field label={t("description")}>
            <input value={description} maxLength={500} onChange={(event) => setDescription(event.target.value)} />
          </Field>
        </div>
        <fieldset>
          <legend>{t("macroPatch")}</legend>
          <div className="admin-row">
            <Field label={t("status")}>{select("status", STATUSES.filter((s) => s !== "merged").map((s) => ({ value: s, label: s })))}</Field>
            <Field label={t("priority")}>{select("priority", PRIORITIES.map((p) => ({ value: p, label: p })))}</Field>
            <Field label={t("assignee")}>
              {select("assignee_id", [{ value: "@me", label: t("assignMe") },
                ...(agents.data ?? []).filter((a) => a.status === "active").map((a) => ({ value: a.id, label: a.name }))], true)}
            </Field>
            <Field label={t("group")}>{select("group_id", (groups.data ?? []).map((g) => ({ value: g.id, label: g.name })), true)}</Field>
          </div>
          <div className="admin-row">
            <Field label={t("category")}>
              <input value={patch.category ?? ""} onChange={(event) => setPatch(withChoice(patch, "category", event.target.value))} />
            </Field>
            <Field label={t("addTags")} hint={t("commaHint")}>
              <ListInput value={patch.add_tags ?? []} onChange={(list) => setPatch({ ...patch, add_tags: list })} testId="macro-add-tags" />
            </Field>
            <Field label={t("removeTags")} hint={t("commaHint")}>
              <ListInput value={patch.remove_tags ?? []} onChange={(list) => setPatch({ ...patch, remove_tags: list })} />
            </Field>
          </div>
        </fieldset>
        <Field label={t("replyTemplate")}>
          <select value={reply} data-testid="macro-reply" onChange={(event) => setReply(event.target.value)}>
            <option value="">{t("none")}</option>
            {reply && !templates.some((tpl) => tpl.code === reply) && <option value={reply}>{reply}</option>}
            {templates.map((tpl) => <option key={tpl.code} value={tpl.code}>/{tpl.code} — {tpl.title}</option>)}
          </select>
        </Field>
        <Field label={t("note")}>
          <textarea value={note} maxLength={4000} data-testid="macro-note" onChange={(event) => setNote(event.target.value)} />
        </Field>
        <FormFooter error={save.error} busy={save.busy} onClose={onClose} testId="macro-save" />
      </form>
    </Modal>
  );
}
