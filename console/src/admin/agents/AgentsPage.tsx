// Agents (invite, edit role/groups/capacity, deactivate, remove) and their groups.
import { useCallback, useState } from "react";
import { useMe } from "../../auth/session";
import { useT } from "../../i18n";
import { listAgents, listGroups, removeAgent, updateAgent } from "../api/agents";
import type { Agent, AgentCreated } from "../api/types";
import { ConfirmButton } from "../common/ConfirmButton";
import { CopyButton } from "../common/CopyButton";
import { ErrorBox } from "../common/ErrorBox";
import { Modal } from "../common/Modal";
import { useLoad } from "../common/useLoad";
import { adminMessages, type AdminKey } from "../messages";
import { AgentForm } from "./AgentForm";
import { GroupsSection } from "./GroupsSection";

export default function AgentsPage() {
  const t = useT(adminMessages);
  const me = useMe();
  const [withRemoved, setWithRemoved] = useState(false);
  const loadAgents = useCallback(() => listAgents(withRemoved), [withRemoved]);
  const agents = useLoad(loadAgents);
  const groups = useLoad(listGroups);
  const [editing, setEditing] = useState<Agent | "new" | null>(null);
  const [created, setCreated] = useState<AgentCreated | null>(null);
  const groupName = (id: string) => groups.data?.find((group) => group.id === id)?.name ?? id;

  return (
    <section data-testid="admin-agents">
      <h1>{t("agents")}</h1>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="agent-invite" onClick={() => setEditing("new")}>
          {t("inviteAgent")}
        </button>
        <label className="admin-check">
          <input type="checkbox" checked={withRemoved} onChange={(event) => setWithRemoved(event.target.checked)} />
          {t("showRemoved")}
        </label>
        <span className="spacer" />
        {agents.loading && <span className="admin-empty">{t("loading")}</span>}
      </div>
      <ErrorBox error={agents.error} />
      <table className="admin-table" data-testid="admin-table">
        <thead>
          <tr>
            <th>{t("name")}</th><th>{t("email")}</th><th>{t("role")}</th><th>{t("groups")}</th>
            <th>{t("capacity")}</th><th>{t("status")}</th><th>{t("availability")}</th><th>{t("actions")}</th>
          </tr>
        </thead>
        <tbody>
          {(agents.data ?? []).map((agent) => {
            const self = agent.id === me.agent.id;
            const removed = agent.status === "removed";
            return (
              <tr key={agent.id} data-testid="agent-row" data-agent-id={agent.id} className={removed ? "muted" : undefined}>
                <td>{agent.name}</td>
                <td>{agent.email}</td>
                <td>{t(`role_${agent.role}` as AdminKey)}</td>
                <td>{agent.group_ids.map(groupName).join(", ") || t("none")}</td>
                <td>{agent.capacity}</td>
                <td>
                  <span className={`admin-badge ${agent.status === "active" ? "on" : "off"}`}>
                    {t(`status_${agent.status}` as AdminKey)}
                  </span>
                </td>
                <td>{t(agent.availability)}</td>
                <td className="actions">
                  {!removed && (
                    <button type="button" data-testid="agent-edit" onClick={() => setEditing(agent)}>{t("edit")}</button>
                  )}
                  {!removed && !self && agent.status === "active" && (
                    <ConfirmButton label={t("deactivate")} testId="agent-deactivate"
                                   question={t("confirmDeactivate", { name: agent.name })}
                                   onConfirm={() => updateAgent(agent.id, { status: "deactivated" })}
                                   onDone={agents.reload} />
                  )}
                  {!removed && !self && agent.status === "deactivated" && (
                    <ConfirmButton label={t("activate")} testId="agent-activate" danger={false}
                                   question={`${t("activate")} ${agent.name}?`}
                                   onConfirm={() => updateAgent(agent.id, { status: "active" })}
                                   onDone={agents.reload} />
                  )}
                  {!removed && !self && (
                    <ConfirmButton label={t("remove")} testId="agent-remove"
                                   question={t("confirmRemove", { name: agent.name })}
                                   onConfirm={() => removeAgent(agent.id)} onDone={agents.reload} />
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {agents.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}

      {editing && (
        <AgentForm agent={editing === "new" ? null : editing} groups={groups.data ?? []}
                   self={editing !== "new" && editing.id === me.agent.id}
                   onClose={() => setEditing(null)}
                   onSaved={(answer) => { setEditing(null); agents.reload(); if (answer) setCreated(answer); }} />
      )}
      {created && (
        <Modal title={t("tempPassword", { email: created.agent.email })} onClose={() => setCreated(null)}
               testId="agent-password-dialog">
          <p className="admin-warning">{t("tempPasswordWarn")}</p>
          <div className="admin-secret">
            <code data-testid="agent-temp-password">{created.temporary_password}</code>
            <CopyButton value={created.temporary_password} />
          </div>
          <div className="admin-actions">
            <button type="button" className="primary" onClick={() => setCreated(null)}>{t("close")}</button>
          </div>
        </Modal>
      )}

      <GroupsSection groups={groups} agents={agents.data ?? []} />
    </section>
  );
}
