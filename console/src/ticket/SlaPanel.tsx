import type { TicketView } from "../api/types";
import { useLocale, useT } from "../i18n";
import { formatDuration, useTimeFormat } from "../i18n/time";
import { ticketMessages } from "./messages";
import { useLabels } from "./useLabels";

/** Every SLA target of the ticket with its state: red breached, amber at risk. */
export function SlaPanel({ ticket }: { ticket: TicketView }) {
  const t = useT(ticketMessages);
  const labels = useLabels();
  const format = useTimeFormat();
  const { locale } = useLocale();
  const targets = ticket.sla ?? [];
  return (
    <section className="panel sla-panel" aria-labelledby="sla-title">
      <h2 id="sla-title">{t("sla")}</h2>
      {targets.length === 0 && <p className="muted small">{t("slaNone")}</p>}
      <ul>
        {targets.map((target) => {
          const state = target.state ?? "active";
          const when = target.due_at ? t("slaDue", { time: format(target.due_at) })
            : target.remaining_seconds != null ? t("slaRemaining", { duration: formatDuration(target.remaining_seconds, locale) }) : "";
          return (
            <li key={`${target.metric}:${target.started_at}`} className={`sla-target sla-${state}`} data-sla-state={state}>
              <span>{labels.metric(target.metric)}</span>
              <span className={`sla-badge sla-${state}`}>{labels.sla(state)}</span>
              <span className="muted small">{state === "met" && target.done_at ? format(target.done_at) : when}
                {target.business_hours ? ` · ${t("businessHours")}` : ""}</span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
