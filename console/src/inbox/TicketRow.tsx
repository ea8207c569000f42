import { useEffect, useRef } from "react";
import { Link } from "react-router-dom";
import type { TicketView } from "../api/types";
import { useT } from "../i18n";
import { useTimeFormat } from "../i18n/time";
import { ChannelBadge } from "../ticket/parts/ChannelBadge";
import { PriorityBadge } from "../ticket/parts/PriorityBadge";
import { SlaBadge } from "../ticket/parts/SlaBadge";
import { StageBadge } from "../ticket/parts/StageBadge";
import { StatusBadge } from "../ticket/parts/StatusBadge";
import { inboxMessages } from "./messages";

/** List rows name their customer (null once erased); `preview` when a hub adds it. */
export type InboxTicket = TicketView & { customer_name?: string | null; preview?: string | null };

interface Props {
  ticket: InboxTicket;
  /** today's date in the tenant's zone, as `format(…, "date")` writes it: today's rows show only the time */
  today: string;
  selected: boolean;
  assigneeName: string | null;
  onSelect: (id: string) => void;
  onOpen: (id: string) => void;
}

export function TicketRow({ ticket, today, selected, assigneeName, onSelect, onOpen }: Props) {
  const t = useT(inboxMessages);
  const format = useTimeFormat();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (selected) ref.current?.scrollIntoView?.({ block: "nearest" });
  }, [selected]);

  return (
    <div ref={ref} role="row" aria-selected={selected} data-testid="ticket-row" data-ticket-id={ticket.id}
         className={`ticket-row${selected ? " selected" : ""} prio-${ticket.priority}`}
         onClick={() => onSelect(ticket.id)} onDoubleClick={() => onOpen(ticket.id)}>
      <span role="gridcell" className="cell-channel"><ChannelBadge channel={ticket.channel} /></span>
      <span role="gridcell" className="cell-subject">
        <Link to={`/tickets/${encodeURIComponent(ticket.id)}`} className="subject" onClick={(e) => e.stopPropagation()}>
          {ticket.subject || t("noSubject")}
        </Link>
        <span className="sub-line">
          <span className="customer">{ticket.customer_name ?? ticket.customer_id}</span>
          {ticket.preview && <span className="preview"> — {ticket.preview}</span>}
          {(ticket.tags ?? []).slice(0, 3).map((tag) => <span key={tag} className="tag-chip small">{tag}</span>)}
        </span>
      </span>
      <span role="gridcell" className="cell-status"><StatusBadge status={ticket.status} /></span>
      <span role="gridcell" className="cell-priority"><PriorityBadge priority={ticket.priority} /></span>
      <span role="gridcell" className="cell-stage"><StageBadge stage={ticket.stage} /></span>
      <span role="gridcell" className="cell-assignee">{assigneeName ?? "—"}</span>
      <span role="gridcell" className="cell-sla"><SlaBadge ticket={ticket} compact /></span>
      <span role="gridcell" className="cell-time">
        <time dateTime={ticket.last_activity_at} title={format(ticket.last_activity_at)}>
          {format(ticket.last_activity_at, today === format(ticket.last_activity_at, "date") ? "time" : "date")}
        </time>
      </span>
    </div>
  );
}
