// The tenant's agent groups: create, rename/describe, assignment mode, delete.
import { useState } from "react";
import { useT } from "../../i18n";
import { deleteGroup } from "../api/agents";
import type { Agent, Group } from "../api/types";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import type { Load } from "../common/useLoad";
import { adminMessages } from "../messages";
import { GroupForm } from "./GroupForm";

export function GroupsSection({ groups, agents }: { groups: Load<Group[]>; agents: Agent[] }) {
  const t = useT(adminMessages);
  const [editing, setEditing] = useState<Group | "new" | null>(null);
  return (
    <section data-testid="admin-groups">
      <h2>{t("groups")}</h2>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="group-new" onClick={() => setEditing("new")}>
          {t("newGroup")}
        </button>
      </div>
      <ErrorBox error={groups.error} />
      <table className="admin-table" data-testid="admin-table-groups">
        <thead>
          <tr><th>{t("name")}</th><th>{t("description")}</th><th>{t("assignment")}</th><th>{t("members")}</th><th>{t("actions")}</th></tr>
        </thead>
        <tbody>
          {(groups.data ?? []).map((group) => (
            <tr key={group.id} data-testid="group-row" data-group-id={group.id}>
              <td>{group.name}</td>
              <td>{group.description || t("none")}</td>
              <td>{t(`assign_${group.assignment}`)}</td>
              <td>{agents.filter((agent) => agent.status !== "removed" && agent.group_ids.includes(group.id)).map((agent) => agent.name).join(", ") || t("none")}</td>
              <td className="actions">
                <button type="button" data-testid="group-edit" onClick={() => setEditing(group)}>{t("edit")}</button>
                <ConfirmButton label={t("delete")} testId="group-delete"
                               question={t("confirmDeleteGroup", { name: group.name })}
                               onConfirm={() => deleteGroup(group.id)} onDone={groups.reload} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {groups.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}
      {editing && (
        <GroupForm group={editing === "new" ? null : editing} onClose={() => setEditing(null)}
                   onSaved={() => { setEditing(null); groups.reload(); }} />
      )}
    </section>
  );
}
