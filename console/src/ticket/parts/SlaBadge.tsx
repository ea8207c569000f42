import type { TicketView } from "../../api/types";
import { useTimeFormat } from "../../i18n/time";
import { slaSummary } from "../sla";
import { useLabels } from "../useLabels";

/** The ticket's most pressing SLA target: red when breached, amber at risk. */
export function SlaBadge({ ticket }: { ticket: Pick<TicketView, "sla"> }) {
  const labels = useLabels();
  const format = useTimeFormat();
  const summary = slaSummary(ticket);
  if (!summary) return <span className="sla-badge sla-none">—</span>;
  const due = summary.due_at ? labels.t("sla_due", { time: format(summary.due_at) }) : labels.sla(summary.state);
  const title = `${labels.metric(summary.metric)}: ${labels.sla(summary.state)}`;
  return (
    <span className={`sla-badge sla-${summary.state}`} data-sla-state={summary.state} title={title}>
      {summary.state === "breached" || summary.state === "warning" ? `${labels.sla(summary.state)} · ` : ""}
      {due}
    </span>
  );
}
