import { Link } from "react-router-dom";
import { useT } from "../i18n";
import { formatDuration, useTimeFormat } from "../i18n/time";
import { useLocale } from "../i18n";
import { isAssistantMessage } from "./assistant";
import { AttachmentList } from "./AttachmentList";
import { MessageStatus } from "./MessageStatus";
import { ticketMessages, type TicketKey } from "./messages";
import { ChannelBadge } from "./parts/ChannelBadge";
import type { TimelineKind } from "./timeline";
import type { Message } from "./types";

interface Props {
  message: Message;
  kind: TimelineKind;
  customerName: string;
  /** a message of the customer's other ticket (shown when the agent asked for every conversation) */
  otherTicket?: boolean;
  onRetried: (message: Message) => void;
}

const kindLabel: Partial<Record<NonNullable<Message["kind"]>, TicketKey>> = {
  call: "call", voicemail: "voicemail", transcription: "transcript", delivery_failure: "deliveryFailure",
};

function author(message: Message, customerName: string, t: (key: TicketKey) => string): string {
  if (message.direction !== "outbound") return customerName;
  if (isAssistantMessage(message)) return t("assistant");
  if (message.author_name) return message.author_name;
  return message.author_id?.startsWith("system:") || message.author_id?.startsWith("rule:") ? t("system") : t("agent");
}

/** One message on the timeline: a customer's (any channel), an agent's or the assistant's reply, a note, a call. */
export function TimelineMessage({ message, kind, customerName, otherTicket = false, onRetried }: Props) {
  const t = useT(ticketMessages);
  const format = useTimeFormat();
  const { locale } = useLocale();
  const label = message.kind ? kindLabel[message.kind] : undefined;
  const seconds = Number(message.metadata?.duration_seconds ?? Number.NaN);
  const side = message.direction === "outbound" ? "outbound" : "inbound";
  const assistant = isAssistantMessage(message);

  return (
    <li className={`timeline-item ${kind} ${side} kind-${message.kind ?? "message"}${otherTicket ? " other-ticket" : ""}${assistant ? " by-assistant" : ""}`}
        data-testid="timeline-item" data-kind={kind} data-message-id={message.id} data-author={assistant ? "assistant" : undefined}>
      <div className="bubble-head">
        <strong>{author(message, customerName, t)}</strong>
        {assistant && <span className="assistant-badge" data-testid="assistant-badge">{t("assistantReply")}</span>}
        <ChannelBadge channel={message.channel} />
        {kind === "note" && <span className="note-label">{t("internalNote")}</span>}
        {label && <span className="kind-label">{t(label)}</span>}
        {Number.isFinite(seconds) && <span className="muted">{formatDuration(seconds, locale)}</span>}
        {message.metadata?.call_status && <span className="muted">{message.metadata.call_status}</span>}
        {otherTicket && (
          <Link className="small" to={`/tickets/${encodeURIComponent(message.ticket_id)}`}>{t("fromTicket", { id: message.ticket_id })}</Link>
        )}
        <time className="muted" dateTime={message.received_at}>{format(message.received_at)}</time>
      </div>
      {message.subject && <div className="bubble-subject">{message.subject}</div>}
      {message.text && (
        <div className={message.kind === "transcription" ? "bubble-text transcript" : "bubble-text"}>{message.text}</div>
      )}
      <AttachmentList attachments={message.attachments ?? []} />
      {side === "outbound" && !message.internal && !otherTicket && <MessageStatus message={message} onRetried={onRetried} />}
    </li>
  );
}
