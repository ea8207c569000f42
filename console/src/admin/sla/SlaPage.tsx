// SLA policies (first match by position wins) and the business-hours calendars they count in.
import { useState } from "react";
import type { Priority } from "../../api/types";
import { useT } from "../../i18n";
import { formatDuration } from "../../i18n/time";
import { useLocale } from "../../i18n";
import { listGroups } from "../api/agents";
import { deletePolicy, listCalendars, listPolicies } from "../api/sla";
import type { Metric, SlaPolicy } from "../api/types";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import { useLoad } from "../common/useLoad";
import { adminMessages } from "../messages";
import { CalendarsSection } from "./CalendarsSection";
import { PolicyForm } from "./PolicyForm";

const priorities: Priority[] = ["urgent", "high", "normal", "low"];
const metrics: Metric[] = ["first_response_minutes", "next_response_minutes", "resolution_minutes"];

export default function SlaPage() {
  const t = useT(adminMessages);
  const { locale } = useLocale();
  const policies = useLoad(listPolicies);
  const calendars = useLoad(listCalendars);
  const groups = useLoad(listGroups);
  const [editing, setEditing] = useState<SlaPolicy | "new" | null>(null);
  const calendarName = (id: string | null) => calendars.data?.find((c) => c.id === id)?.name ?? id ?? t("none");

  function targets(policy: SlaPolicy): string {
    return priorities
      .filter((priority) => policy.targets[priority])
      .map((priority) => `${priority}: ${metrics.map((metric) => {
        const minutes = policy.targets[priority]?.[metric];
        return minutes ? formatDuration(minutes * 60, locale) : "—";
      }).join(" / ")}`)
      .join("; ");
  }

  return (
    <section data-testid="admin-sla">
      <h1>{t("slaPolicies")}</h1>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="policy-new" onClick={() => setEditing("new")}>{t("newPolicy")}</button>
      </div>
      <ErrorBox error={policies.error} />
      <table className="admin-table" data-testid="admin-table">
        <thead>
          <tr>
            <th>{t("position")}</th><th>{t("name")}</th>
            <th>{t("targetsShort")} ({t("firstResponse")} / {t("nextResponse")} / {t("resolution")})</th>
            <th>{t("calendar")}</th><th>{t("actions")}</th>
          </tr>
        </thead>
        <tbody>
          {(policies.data ?? []).map((policy) => (
            <tr key={policy.id} data-testid="policy-row" data-policy-id={policy.id}>
              <td>{policy.position}</td>
              <td>{policy.name}</td>
              <td>{targets(policy)}</td>
              <td>{policy.business_hours ? calendarName(policy.calendar_id) : t("none")}</td>
              <td className="actions">
                <button type="button" data-testid="policy-edit" onClick={() => setEditing(policy)}>{t("edit")}</button>
                <ConfirmButton label={t("delete")} testId="policy-delete" question={t("confirmDelete", { name: policy.name })}
                               onConfirm={() => deletePolicy(policy)} onDone={policies.reload} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {policies.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}
      {editing && (
        <PolicyForm policy={editing === "new" ? null : editing} calendars={calendars.data ?? []} groups={groups.data ?? []}
                    onClose={() => setEditing(null)} onSaved={() => { setEditing(null); policies.reload(); }} />
      )}
      <CalendarsSection calendars={calendars} />
    </section>
  );
}
