// The tenant's audit log: newest first, filtered by action, paged by the hub's cursor.
import { useCallback, useState } from "react";
import { useT } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { auditPage } from "../api/audit";
import type { AuditRecord } from "../api/types";
import { ErrorBox } from "../common/ErrorBox";
import { useLoad } from "../common/useLoad";
import { adminMessages } from "../messages";
import { AuditRow } from "./AuditRow";

const knownActions = [
  "agent.create", "agent.update", "agent.activate", "agent.deactivate", "agent.remove", "group.create", "group.update",
  "group.delete", "rule.create", "rule.update", "rule.delete", "sla_policy.create", "sla_policy.update",
  "sla_policy.delete", "calendar.create", "calendar.update", "calendar.delete", "template.create", "template.update",
  "template.delete", "template.import", "macro.create", "macro.update", "macro.delete", "plugin.enable",
  "plugin.disable", "plugin.configure", "key.create", "key.revoke", "settings.update", "customer.erase",
  "customer.merge", "customer.unmerge", "deliveries.replay", "aside.replay", "tenant.update",
];

function who(record: AuditRecord): string {
  const actor = record.actor;
  if (actor.agent_name || actor.agent_id) return actor.agent_name ?? actor.agent_id ?? "";
  if (actor.key_id) return `${actor.key_name || "key"} (${actor.key_id})`;
  return actor.via ?? "";
}

export default function AuditPage() {
  const t = useT(adminMessages);
  const time = useTimeFormat();
  const [typed, setTyped] = useState("");
  const [action, setAction] = useState("");
  const [limit, setLimit] = useState(50);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [open, setOpen] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1] ?? null;
  const load = useCallback(() => auditPage(action, limit, cursor), [action, limit, cursor]);
  const page = useLoad(load);
  const records = page.data?.records ?? [];
  const next = page.data?.next_cursor ?? null;

  function apply(nextAction: string, nextLimit: number) {
    setAction(nextAction.trim());
    setLimit(nextLimit);
    setCursors([null]);
  }

  return (
    <section data-testid="admin-audit">
      <h1>{t("audit")}</h1>
      <form className="admin-toolbar" onSubmit={(event) => { event.preventDefault(); apply(typed, limit); }}>
        <input list="audit-actions" value={typed} placeholder={t("filterAction")} data-testid="audit-action"
               onChange={(event) => setTyped(event.target.value)} />
        <datalist id="audit-actions">{knownActions.map((name) => <option key={name} value={name} />)}</datalist>
        <label className="admin-check">
          {t("pageSize")}
          <select value={limit} data-testid="audit-limit" onChange={(event) => apply(typed, Number(event.target.value))}>
            {[20, 50, 100].map((size) => <option key={size} value={size}>{size}</option>)}
          </select>
        </label>
        <button type="submit" data-testid="audit-apply">{t("apply")}</button>
        <span className="spacer" />
        {page.loading && <span className="admin-empty">{t("loading")}</span>}
      </form>
      <ErrorBox error={page.error} />
      <table className="admin-table" data-testid="admin-table">
        <thead>
          <tr><th>{t("when")}</th><th>{t("action")}</th><th>{t("target")}</th><th>{t("who")}</th><th>{t("from")}</th><th /></tr>
        </thead>
        <tbody>
          {records.map((record) => (
            <AuditRow key={record.id} record={record} when={time(record.at)} who={who(record)}
                      open={open === record.id} onToggle={() => setOpen(open === record.id ? null : record.id)}
                      detailsLabel={t("details")} beforeLabel={t("before")} afterLabel={t("after")} />
          ))}
        </tbody>
      </table>
      {!page.loading && records.length === 0 && <p className="admin-empty">{t("noRecords")}</p>}
      <div className="admin-pager">
        <button type="button" disabled={cursors.length <= 1} data-testid="audit-first" onClick={() => setCursors([null])}>
          {t("firstPage")}
        </button>
        <button type="button" disabled={cursors.length <= 1} data-testid="audit-newer"
                onClick={() => setCursors(cursors.slice(0, -1))}>{t("newer")}</button>
        <button type="button" disabled={!next} data-testid="audit-older"
                onClick={() => next && setCursors([...cursors, next])}>{t("older")}</button>
      </div>
    </section>
  );
}
