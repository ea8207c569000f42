import { Link } from "react-router-dom";
import type { TicketView } from "../api/types";
import { useT } from "../i18n";
import { useTimeFormat } from "../i18n/time";
import { ticketMessages } from "./messages";
import { ChannelBadge } from "./parts/ChannelBadge";
import { PriorityBadge } from "./parts/PriorityBadge";
import { SlaBadge } from "./parts/SlaBadge";
import { StageBadge } from "./parts/StageBadge";
import { StatusBadge } from "./parts/StatusBadge";

interface Props {
  ticket: TicketView;
  customerName: string;
  onMerge: () => void;
}

export function TicketHeader({ ticket, customerName, onMerge }: Props) {
  const t = useT(ticketMessages);
  const format = useTimeFormat();
  return (
    <header className="ticket-header">
      <div className="ticket-title-row">
        <Link to="/inbox" className="back-link">{t("back")}</Link>
        <h1>{ticket.subject || ticket.id}</h1>
        <span className="spacer" />
        <button type="button" data-testid="merge-button" onClick={onMerge}
                disabled={ticket.status === "merged" || ticket.status === "closed"}>{t("merge")}</button>
      </div>
      <div className="ticket-meta">
        <span className="muted">{ticket.id}</span>
        <span>{customerName}</span>
        <ChannelBadge channel={ticket.channel} withLabel />
        <StatusBadge status={ticket.status} />
        <PriorityBadge priority={ticket.priority} />
        <StageBadge stage={ticket.stage} />
        <SlaBadge ticket={ticket} />
        {ticket.category && (
          <span className="tag-chip" data-testid="ticket-category-chip">{t("categoryChip", { category: ticket.category })}</span>
        )}
        <span className="muted small">{t("created", { time: format(ticket.created_at) })}</span>
        {ticket.follow_up_of && (
          <Link to={`/tickets/${encodeURIComponent(ticket.follow_up_of)}`} className="small">{t("followUpOf", { id: ticket.follow_up_of })}</Link>
        )}
      </div>
      {ticket.merged_into && (
        <p className="banner" role="status">
          <Link to={`/tickets/${encodeURIComponent(ticket.merged_into)}`}>{t("mergedNotice", { id: ticket.merged_into })}</Link>
        </p>
      )}
    </header>
  );
}
