import { useTimeFormat } from "../i18n/time";
import type { TimelineKind } from "./timeline";
import type { HistoryEntry } from "./types";
import { isAssistantEntry } from "./assistant";
import { useDescribeEntry } from "./useDescribeEntry";
import { useT } from "../i18n";
import { ticketMessages } from "./messages";

/** A history entry on the timeline: a status change, an assignment, an SLA event, a CSAT score,
 *  an assistant's decision (answered, unsure, handed off, the customer's feedback). */
export function TimelineEvent({ entry, kind }: { entry: HistoryEntry; kind: TimelineKind }) {
  const t = useT(ticketMessages);
  const format = useTimeFormat();
  const describe = useDescribeEntry();
  const { lines, actor, note } = describe(entry);
  const score = Number(entry.detail?.score);
  const assistant = isAssistantEntry(entry);
  const tone = entry.event === "sla_breached" ? " danger" : entry.event === "sla_warning" ? " warn" : assistant ? " assistant" : "";

  return (
    <li className={`timeline-item event${tone}${kind === "csat" ? " csat" : ""}`} data-testid="timeline-item" data-kind={kind}
        data-event={entry.event ?? undefined} data-actor={entry.actor.kind}>
      <span className="event-dot" aria-hidden="true" />
      <div className="event-body">
        {kind === "csat" && Number.isFinite(score) && (
          <span className="stars" role="img" aria-label={`${score}/5`}>{"★".repeat(score)}{"☆".repeat(Math.max(0, 5 - score))}</span>
        )}
        <span className="event-lines">{lines.join(" · ")}</span>
        {note && <span className="event-note">{note}</span>}
        <span className="muted event-meta">
          {actor ? `${t("by", { name: actor })} · ` : ""}
          <time dateTime={entry.at}>{format(entry.at)}</time>
        </span>
      </div>
    </li>
  );
}
