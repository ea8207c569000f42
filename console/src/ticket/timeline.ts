// The ticket's one timeline: every message (all channels, calls, voicemails, notes) and every
// history entry (status, assignment, SLA, survey, CSAT), in time order.
import type { HistoryEntry, Message } from "./types";

export type TimelineKind = "message" | "note" | "event" | "csat";

export interface TimelineItem {
  key: string;
  at: string;
  kind: TimelineKind;
  message?: Message;
  entry?: HistoryEntry;
}

function messageKind(message: Message): TimelineKind {
  if (message.internal) return "note";
  if (message.kind === "event" || message.kind === "delivery_failure") return "event";
  return "message";
}

/** An entry that records nothing a person needs (no change, no event, no reason) is left out. */
function entryShown(entry: HistoryEntry): boolean {
  return Boolean(entry.event) || entry.changes.length > 0 || Boolean(entry.stages) || Boolean(entry.reason);
}

export function buildTimeline(messages: Message[], history: HistoryEntry[]): TimelineItem[] {
  const items: TimelineItem[] = messages.map((message) => ({
    key: `m:${message.id}`, at: message.received_at, kind: messageKind(message), message,
  }));
  for (const entry of history) {
    if (!entryShown(entry)) continue;
    items.push({
      key: `h:${entry.version}:${entry.cause}`, at: entry.at, entry,
      kind: entry.event === "csat_received" ? "csat" : "event",
    });
  }
  // by time; at the same instant a message comes before what it caused
  return items
    .map((item, index) => ({ item, index, time: Date.parse(item.at) || 0 }))
    .sort((a, b) => a.time - b.time || Number(Boolean(a.item.entry)) - Number(Boolean(b.item.entry)) || a.index - b.index)
    .map(({ item }) => item);
}
