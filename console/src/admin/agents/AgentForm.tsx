// Invite an agent (POST /v1/agents) or change one (PATCH): name, role, groups, capacity.
import { useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { inviteAgent, updateAgent } from "../api/agents";
import type { Agent, AgentCreated, Group, Role } from "../api/types";
import { ErrorBox } from "../common/ErrorBox";
import { Field } from "../common/Field";
import { Modal } from "../common/Modal";
import { MultiCheck } from "../common/MultiCheck";
import { useAction } from "../common/useAction";
import { adminMessages } from "../messages";

interface Props {
  agent: Agent | null;
  groups: Group[];
  self: boolean;
  onClose: () => void;
  onSaved: (created: AgentCreated | null) => void;
}

const EMAIL = /^[^@\s]{1,64}@[^@\s]{1,253}$/;
const roles: Role[] = ["agent", "supervisor", "admin"];

export function AgentForm({ agent, groups, self, onClose, onSaved }: Props) {
  const t = useT(adminMessages);
  const [email, setEmail] = useState(agent?.email ?? "");
  const [name, setName] = useState(agent?.name ?? "");
  const [role, setRole] = useState<Role>(agent?.role ?? "agent");
  const [groupIds, setGroupIds] = useState<string[]>(agent?.group_ids ?? []);
  const [capacity, setCapacity] = useState(String(agent?.capacity ?? 10));
  const [tried, setTried] = useState(false);
  const capacityNumber = Number(capacity);
  const problems = {
    email: !agent && !EMAIL.test(email.trim()) ? t("badEmail") : null,
    name: !name.trim() ? t("required") : null,
    capacity: !Number.isInteger(capacityNumber) || capacityNumber < 0 || capacityNumber > 200
      ? `0–200` : null,
  };
  const save = useAction(async () => {
    if (!agent) {
      const created = await inviteAgent({
        email: email.trim(), name: name.trim(), role, group_ids: groupIds, capacity: capacityNumber,
      });
      onSaved(created);
      return;
    }
    await updateAgent(agent.id, {
      name: name.trim(), group_ids: groupIds, capacity: capacityNumber, ...(self ? {} : { role }),
    });
    onSaved(null);
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (Object.values(problems).some(Boolean)) return;
    void save.run();
  }

  return (
    <Modal title={agent ? t("editAgent") : t("inviteAgent")} onClose={onClose} testId="agent-form">
      <form className="admin-form" onSubmit={submit} noValidate>
        <Field label={t("email")} problem={tried ? problems.email : null}>
          <input type="email" value={email} disabled={!!agent} data-testid="agent-email" autoFocus={!agent}
                 onChange={(event) => setEmail(event.target.value)} />
        </Field>
        <Field label={t("name")} problem={tried ? problems.name : null}>
          <input value={name} maxLength={200} data-testid="agent-name" onChange={(event) => setName(event.target.value)} />
        </Field>
        <div className="admin-row">
          <Field label={t("role")}>
            <select value={role} disabled={self} data-testid="agent-role"
                    onChange={(event) => setRole(event.target.value as Role)}>
              {roles.map((value) => <option key={value} value={value}>{t(`role_${value}`)}</option>)}
            </select>
          </Field>
          <Field label={t("capacity")} hint={t("capacityHint")} problem={tried ? problems.capacity : null}>
            <input type="number" min={0} max={200} value={capacity} data-testid="agent-capacity"
                   onChange={(event) => setCapacity(event.target.value)} />
          </Field>
        </div>
        <Field label={t("groups")}>
          {groups.length ? (
            <MultiCheck options={groups.map((group) => ({ value: group.id, label: group.name }))}
                        value={groupIds} onChange={setGroupIds} testId="agent-groups" />
          ) : <span className="admin-empty">{t("none")}</span>}
        </Field>
        <ErrorBox error={save.error} />
        <div className="admin-actions">
          <button type="button" onClick={onClose}>{t("cancel")}</button>
          <button type="submit" className="primary" disabled={save.busy} data-testid="agent-save">
            {save.busy ? t("working") : agent ? t("save") : t("inviteAgent")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
