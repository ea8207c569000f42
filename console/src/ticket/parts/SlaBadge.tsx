import type { TicketView } from "../../api/types";
import { useTimeFormat } from "../../i18n/time";
import { slaSummary } from "../sla";
import { useLabels } from "../useLabels";

/** The ticket's most pressing SLA target: red when breached, amber at risk. */
/** `compact` (list rows): the due time alone when it is today. */
export function SlaBadge({ ticket, compact = false }: { ticket: Pick<TicketView, "sla">; compact?: boolean }) {
  const labels = useLabels();
  const format = useTimeFormat();
  const summary = slaSummary(ticket);
  if (!summary) return <span className="sla-badge sla-none">—</span>;
  const today = compact && summary.due_at && format(summary.due_at, "date") === format(new Date().toISOString(), "date");
  const when = summary.due_at ? format(summary.due_at, today ? "time" : "datetime") : null;
  const due = when ? labels.t("sla_due", { time: when }) : labels.sla(summary.state);
  const title = `${labels.metric(summary.metric)}: ${labels.sla(summary.state)}${summary.due_at ? ` · ${format(summary.due_at)}` : ""}`;
  return (
    <span className={`sla-badge sla-${summary.state}`} data-sla-state={summary.state} title={title}>
      {summary.state === "breached" || summary.state === "warning" ? `${labels.sla(summary.state)} · ` : ""}
      {due}
    </span>
  );
}
