// Create or change a group: name, description, how its tickets are assigned.
import { useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { createGroup, updateGroup } from "../api/agents";
import type { Assignment, Group } from "../api/types";
import { FormFooter } from "../common/FormFooter";
import { Field } from "../common/Field";
import { Modal } from "../common/Modal";
import { useAction } from "../common/useAction";
import { adminMessages } from "../messages";

const modes: Assignment[] = ["round_robin", "least_loaded", "manual"];

export function GroupForm({ group, onClose, onSaved }: { group: Group | null; onClose: () => void; onSaved: () => void }) {
  const t = useT(adminMessages);
  const [name, setName] = useState(group?.name ?? "");
  const [description, setDescription] = useState(group?.description ?? "");
  const [assignment, setAssignment] = useState<Assignment>(group?.assignment ?? "round_robin");
  const [tried, setTried] = useState(false);
  const save = useAction(async () => {
    const draft = { name: name.trim(), description, assignment };
    await (group ? updateGroup(group.id, draft) : createGroup(draft));
    onSaved();
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (name.trim()) void save.run();
  }

  return (
    <Modal title={group ? t("editGroup") : t("newGroup")} onClose={onClose} testId="group-form">
      <form className="admin-form" onSubmit={submit} noValidate>
        <Field label={t("name")} problem={tried && !name.trim() ? t("required") : null}>
          <input value={name} maxLength={100} data-testid="group-name" autoFocus
                 onChange={(event) => setName(event.target.value)} />
        </Field>
        <Field label={t("description")}>
          <textarea value={description} maxLength={500} onChange={(event) => setDescription(event.target.value)} />
        </Field>
        <Field label={t("assignment")}>
          <select value={assignment} data-testid="group-assignment"
                  onChange={(event) => setAssignment(event.target.value as Assignment)}>
            {modes.map((mode) => <option key={mode} value={mode}>{t(`assign_${mode}`)}</option>)}
          </select>
        </Field>
        <FormFooter error={save.error} busy={save.busy} onClose={onClose} testId="group-save" />
      </form>
    </Modal>
  );
}
