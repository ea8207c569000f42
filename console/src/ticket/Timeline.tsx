import { useEffect, useMemo, useRef } from "react";
import { useT } from "../i18n";
import { useCustomerNames } from "./useCustomerNames";
import { ticketMessages } from "./messages";
import { buildTimeline } from "./timeline";
import { TimelineEvent } from "./TimelineEvent";
import { TimelineMessage } from "./TimelineMessage";
import type { HistoryEntry, Message } from "./types";

interface Props {
  customerId: string;
  ticketId: string;
  messages: Message[];
  history: HistoryEntry[];
  customerName: string;
  onRetried: (message: Message) => void;
}

/** The whole conversation and what happened to the ticket, oldest first; follows new items. */
export function Timeline({ customerId, ticketId, messages, history, customerName, onRetried }: Props) {
  const t = useT(ticketMessages);
  const items = useMemo(() => buildTimeline(messages, history), [messages, history]);
  // messages merged in from another customer's ticket name that customer
  const others = [...new Set(messages.map((message) => message.customer_id).filter((id) => id !== customerId))];
  const otherName = useCustomerNames(others);
  const nameOf = (message: Message) => (message.customer_id === customerId ? customerName
    : otherName(message.customer_id) ?? message.customer_id);
  const end = useRef<HTMLDivElement>(null);
  const count = items.length;
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "end" });
  }, [count]);

  return (
    <section className="timeline" aria-label={t("timeline")}>
      {count === 0 && <p className="muted">{t("noTimeline")}</p>}
      <ol>
        {items.map((item) => item.message
          ? <TimelineMessage key={item.key} message={item.message} kind={item.kind} customerName={nameOf(item.message)}
                             otherTicket={item.message.ticket_id !== ticketId} onRetried={onRetried} />
          : item.entry && <TimelineEvent key={item.key} entry={item.entry} kind={item.kind} />)}
      </ol>
      <div ref={end} />
    </section>
  );
}
