import { useEffect, useMemo, useRef } from "react";
import { useT } from "../i18n";
import { ticketMessages } from "./messages";
import { buildTimeline } from "./timeline";
import { TimelineEvent } from "./TimelineEvent";
import { TimelineMessage } from "./TimelineMessage";
import type { HistoryEntry, Message } from "./types";

interface Props {
  messages: Message[];
  history: HistoryEntry[];
  customerName: string;
  onRetried: (message: Message) => void;
}

/** The whole conversation and what happened to the ticket, oldest first; follows new items. */
export function Timeline({ messages, history, customerName, onRetried }: Props) {
  const t = useT(ticketMessages);
  const items = useMemo(() => buildTimeline(messages, history), [messages, history]);
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
          ? <TimelineMessage key={item.key} message={item.message} kind={item.kind} customerName={customerName} onRetried={onRetried} />
          : item.entry && <TimelineEvent key={item.key} entry={item.entry} kind={item.kind} />)}
      </ol>
      <div ref={end} />
    </section>
  );
}
