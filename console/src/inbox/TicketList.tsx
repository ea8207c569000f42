import { useState } from "react";
import type { TicketView } from "../api/types";
import { useT } from "../i18n";
import { useTimeFormat } from "../i18n/time";
import { useDirectory } from "../ticket/useDirectory";
import { inboxMessages } from "./messages";
import { TicketRow } from "./TicketRow";

interface Props {
  tickets: TicketView[];
  selectedId: string | null;
  loading: boolean;
  error: string | null;
  hasMore: boolean;
  onSelect: (id: string) => void;
  onOpen: (id: string) => void;
  onMore: () => void;
  onRetry: () => void;
}

export function TicketList(props: Props) {
  const { tickets, selectedId, loading, error, hasMore, onSelect, onOpen, onMore, onRetry } = props;
  const t = useT(inboxMessages);
  const directory = useDirectory();
  const format = useTimeFormat();
  const [today] = useState(() => new Date().toISOString());

  return (
    <div className="ticket-table" role="grid" aria-label={t("ticketList")} aria-busy={loading}>
      <div role="rowgroup" className="ticket-head">
        <div role="row" className="ticket-row head">
          <span role="columnheader" className="cell-channel"><span className="sr-only">{t("channel")}</span></span>
          <span role="columnheader" className="cell-subject">{t("subject")} · {t("customer")}</span>
          <span role="columnheader" className="cell-status">{t("status")}</span>
          <span role="columnheader" className="cell-priority">{t("priority")}</span>
          <span role="columnheader" className="cell-stage">{t("stage")}</span>
          <span role="columnheader" className="cell-assignee">{t("assignee")}</span>
          <span role="columnheader" className="cell-sla">{t("sla")}</span>
          <span role="columnheader" className="cell-time">{t("lastActivity")}</span>
        </div>
      </div>
      <div role="rowgroup" className="ticket-body" data-testid="ticket-list">
        {tickets.map((ticket) => (
          <TicketRow key={ticket.id} ticket={ticket} today={format(today, "date")} selected={ticket.id === selectedId}
                     assigneeName={directory.agentName(ticket.assignee_id)} onSelect={onSelect} onOpen={onOpen} />
        ))}
      </div>
      {error && (
        <p className="list-note error" role="alert">
          {t("error", { message: error })} <button type="button" className="link" onClick={onRetry}>{t("retry")}</button>
        </p>
      )}
      {!error && !loading && tickets.length === 0 && <p className="list-note">{t("empty")}</p>}
      {loading && <p className="list-note">{t("loading")}</p>}
      {hasMore && !loading && (
        <div className="list-note"><button type="button" onClick={onMore}>{t("loadMore")}</button></div>
      )}
    </div>
  );
}
