import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import type { TicketView } from "../api/types";
import { useT } from "../i18n";
import { useTimeFormat } from "../i18n/time";
import { ChannelBadge } from "../ticket/parts/ChannelBadge";
import { PriorityBadge } from "../ticket/parts/PriorityBadge";
import { SlaBadge } from "../ticket/parts/SlaBadge";
import { StageBadge } from "../ticket/parts/StageBadge";
import { StatusBadge } from "../ticket/parts/StatusBadge";
import type { TicketDetail } from "../ticket/types";
import { inboxMessages } from "./messages";

const SHOWN = 6;

/** The selected ticket beside the list: its latest messages and a way in. */
export function TicketPreview({ ticket }: { ticket: TicketView | null }) {
  const t = useT(inboxMessages);
  const format = useTimeFormat();
  const [detail, setDetail] = useState<TicketDetail | null>(null);
  const id = ticket?.id;
  const stamp = ticket?.last_activity_at;

  useEffect(() => {
    if (!id) return undefined;
    const controller = new AbortController();
    api<TicketDetail>(`/v1/tickets/${encodeURIComponent(id)}`, { signal: controller.signal })
      .then(setDetail)
      .catch(() => undefined);
    return () => controller.abort();
  }, [id, stamp]);

  if (!ticket) return <aside className="inbox-preview empty" aria-label={t("preview")}><p>{t("selectTicket")}</p></aside>;
  const messages = detail?.ticket.id === ticket.id ? detail.messages.slice(-SHOWN) : [];
  const customer = detail?.ticket.id === ticket.id ? detail.customer : null;
  const customerName = customer?.display_name ?? customer?.identities[0]?.value ?? ticket.customer_id;

  return (
    <aside className="inbox-preview" aria-label={t("preview")} data-testid="ticket-preview">
      <header>
        <h2>{ticket.subject || t("noSubject")}</h2>
        <div className="badges">
          <ChannelBadge channel={ticket.channel} withLabel />
          <StatusBadge status={ticket.status} />
          <PriorityBadge priority={ticket.priority} />
          <StageBadge stage={ticket.stage} />
          <SlaBadge ticket={ticket} />
        </div>
        <p className="muted">{customerName}</p>
        <Link className="button primary" to={`/tickets/${encodeURIComponent(ticket.id)}`}>{t("open")}</Link>
      </header>
      <h3>{t("recent")}</h3>
      {messages.length === 0 && <p className="muted">{t("noMessages")}</p>}
      <ol className="preview-messages">
        {messages.map((message) => (
          <li key={message.id} className={`bubble ${message.direction ?? "inbound"}${message.internal ? " internal" : ""}`}>
            <span className="meta">{message.direction === "outbound" ? message.author_name ?? "" : customerName}
              {" · "}{format(message.received_at)}</span>
            <span className="text">{message.text || message.kind}</span>
          </li>
        ))}
      </ol>
    </aside>
  );
}
