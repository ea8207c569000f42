// The customer's other tickets' messages, for "show every conversation": read only when the
// agent asks, at most MAX tickets (newest activity first), each once per activity stamp.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { TicketView } from "../api/types";
import type { Message, TicketDetail } from "./types";

const MAX = 10;

export function useEarlierConversations(tickets: TicketView[], currentId: string, enabled: boolean): Message[] {
  const [messages, setMessages] = useState<{ key: string; list: Message[] }>({ key: "", list: [] });
  const others = tickets.filter((ticket) => ticket.id !== currentId).slice(0, MAX);
  const key = others.map((ticket) => `${ticket.id}@${ticket.last_activity_at}`).join(",");

  useEffect(() => {
    if (!enabled || !key) return undefined;
    const controller = new AbortController();
    const ids = key.split(",").map((item) => item.split("@")[0] ?? "");
    Promise.all(ids.map((id) => api<TicketDetail>(`/v1/tickets/${encodeURIComponent(id)}`, { signal: controller.signal })
      .then((detail) => detail.messages)
      .catch(() => [] as Message[])))
      .then((lists) => !controller.signal.aborted && setMessages({ key, list: lists.flat() }))
      .catch(() => undefined);
    return () => controller.abort();
  }, [enabled, key]);

  return enabled && messages.key === key ? messages.list : [];
}
