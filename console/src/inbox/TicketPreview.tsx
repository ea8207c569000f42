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
import { isAssistantMessage } from "../ticket/assistant";
import type { TicketDetail } from "../ticket/types";
import { inboxMessages } from "./messages";

const SHOWN = 6;

/** The selected ticket beside the list: its latest messages (the assistant's marked) and a way in. */
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
  // the list rows carry no author: the preview, which reads the messages, says who answered last
  const lastReply = detail?.ticket.id === ticket.id
    ? [...detail.messages].reverse().find((message) => message.direction === "outbound" && !message.internal) : undefined;
  const assistantLast = lastReply !== undefined && isAssistantMessage(lastReply);

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
          {assistantLast && (
            <span className="assistant-badge" data-testid="preview-assistant-badge" title={t("assistantHandling")}>{t("assistant")}</span>
          )}
        </div>
        <p className="muted">{customerName}</p>
        <Link className="button primary" to={`/tickets/${encodeURIComponent(ticket.id)}`}>{t("open")}</Link>
      </header>
      <h3>{t("recent")}</h3>
      {messages.length === 0 && <p className="muted">{t("noMessages")}</p>}
      <ol className="preview-messages">
        {messages.map((message) => (
          <li key={message.id} className={`bubble ${message.direction ?? "inbound"}${message.internal ? " internal" : ""}`}>
            <span className="meta">{message.direction !== "outbound" ? customerName
              : isAssistantMessage(message) ? t("assistant") : message.author_name ?? ""}
              {" · "}{format(message.received_at)}</span>
            <span className="text">{message.text || message.kind}</span>
          </li>
        ))}
      </ol>
    </aside>
  );
}
