// Status, priority, assignee, group, category and tags: each change is one PATCH at the
// version shown (409: reloaded, and the agent is told).
import { useState } from "react";
import type { TicketView } from "../api/types";
import { useMe } from "../auth/session";
import { useT } from "../i18n";
import { CategoryField } from "./CategoryField";
import { PRIORITIES, STATUSES } from "./labels";
import { ticketMessages } from "./messages";
import { TagEditor } from "./TagEditor";
import { useDirectory } from "./useDirectory";
import { useLabels } from "./useLabels";
import { ConflictError, type TicketPatch } from "./useTicket";

interface Props {
  ticket: TicketView;
  update: (patch: TicketPatch) => Promise<void>;
  onNotice: (text: string) => void;
}

export function TicketControls({ ticket, update, onNotice }: Props) {
  const t = useT(ticketMessages);
  const labels = useLabels();
  const me = useMe();
  const directory = useDirectory();
  const [saving, setSaving] = useState(false);
  const locked = saving || ticket.status === "merged";

  async function change(patch: TicketPatch) {
    setSaving(true);
    try {
      await update(patch);
    } catch (error) {
      onNotice(error instanceof ConflictError ? t("conflict") : t("changeFailed", { message: (error as Error).message }));
    } finally {
      setSaving(false);
    }
  }

  const agents = directory.agentsListed ? directory.agents : [];
  const assigneeKnown = !ticket.assignee_id || ticket.assignee_id === me.agent.id || agents.some((a) => a.id === ticket.assignee_id);
  const groupKnown = !ticket.group_id || directory.groups.some((group) => group.id === ticket.group_id);

  return (
    <section className="panel controls" aria-labelledby="controls-title" aria-busy={saving}>
      <h2 id="controls-title">{t("properties")}</h2>
      <label htmlFor="ticket-status">{t("status")}</label>
      <select id="ticket-status" data-testid="ticket-status" value={ticket.status} disabled={locked}
              onChange={(e) => void change({ status: e.target.value })}>
        {STATUSES.map((status) => <option key={status} value={status}>{labels.status(status)}</option>)}
        {ticket.status === "merged" && <option value="merged" disabled>{labels.status("merged")}</option>}
      </select>
      <label htmlFor="ticket-priority">{t("priority")}</label>
      <select id="ticket-priority" data-testid="ticket-priority" value={ticket.priority} disabled={locked}
              onChange={(e) => void change({ priority: e.target.value })}>
        {PRIORITIES.map((priority) => <option key={priority} value={priority}>{labels.priority(priority)}</option>)}
      </select>
      <label htmlFor="ticket-assignee">{t("assignee")}</label>
      <select id="ticket-assignee" data-testid="ticket-assignee" value={ticket.assignee_id ?? ""} disabled={locked}
              aria-describedby={directory.agentsListed ? undefined : "assignee-hint"}
              onChange={(e) => void change({ assignee_id: e.target.value || null })}>
        <option value="">{labels.t("unassigned")}</option>
        <option value={me.agent.id}>{t("me", { name: me.agent.name })}</option>
        {agents.filter((agent) => agent.id !== me.agent.id).map((agent) => (
          <option key={agent.id} value={agent.id}>{agent.name}</option>
        ))}
        {!assigneeKnown && ticket.assignee_id && <option value={ticket.assignee_id}>{directory.agentName(ticket.assignee_id)}</option>}
      </select>
      {!directory.agentsListed && <p id="assignee-hint" className="hint">{t("assigneeLimited")}</p>}
      <label htmlFor="ticket-group">{t("group")}</label>
      <select id="ticket-group" data-testid="ticket-group" value={ticket.group_id ?? ""} disabled={locked}
              onChange={(e) => void change({ group_id: e.target.value || null })}>
        <option value="">{t("noGroup")}</option>
        {directory.groups.map((group) => <option key={group.id} value={group.id}>{group.name}</option>)}
        {!groupKnown && ticket.group_id && <option value={ticket.group_id}>{ticket.group_id}</option>}
      </select>
      <label htmlFor="ticket-category">{t("category")}</label>
      <CategoryField value={ticket.category} disabled={locked} onSave={(category) => void change({ category })} />
      <span className="field-label" id="tags-label">{t("tags")}</span>
      <TagEditor tags={ticket.tags ?? []} disabled={locked} onAdd={(tag) => void change({ add_tags: [tag] })}
                 onRemove={(tag) => void change({ remove_tags: [tag] })} />
      {saving && <span className="muted small" role="status">{t("saving")}</span>}
    </section>
  );
}
