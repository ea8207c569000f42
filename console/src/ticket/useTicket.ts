// One ticket with its messages and history, kept current: re-read when /v1/changes names
// it, and every few seconds while one of its replies is still on its way (a delivery
// receipt changes the message, not the ticket).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useChangesFeed } from "../api/changes";
import { ApiError, api } from "../api/client";
import type { TicketView } from "../api/types";
import type { HistoryEntry, Message, TicketDetail } from "./types";

const IN_FLIGHT_POLL_MS = 2500;
/** A reply still `sent` this long after its last change is probably never confirmed (SMS). */
const IN_FLIGHT_WINDOW_MS = 10 * 60 * 1000;

export type TicketPatch = Partial<{
  status: string; priority: string; assignee_id: string | null; group_id: string | null;
  category: string | null; add_tags: string[]; remove_tags: string[];
}>;

export class ConflictError extends Error {}

interface State {
  id: string;
  detail: TicketDetail | null;
  history: HistoryEntry[];
  error: ApiError | Error | null;
}

export interface TicketData {
  detail: TicketDetail | null;
  history: HistoryEntry[];
  loading: boolean;
  error: ApiError | Error | null;
  refresh: () => Promise<void>;
  /** PATCH at the version shown; a 409 reloads and throws ConflictError. */
  update: (patch: TicketPatch) => Promise<void>;
  /** A message this page posted or retried, shown before the next read. */
  putMessage: (message: Message) => void;
}

function inFlight(message: Message, now: number): boolean {
  if (message.direction !== "outbound" || message.internal) return false;
  if (message.status !== "queued" && message.status !== "sent") return false;
  return now - Date.parse(message.status_at ?? message.received_at) < IN_FLIGHT_WINDOW_MS;
}

async function read(id: string): Promise<{ detail: TicketDetail; history: HistoryEntry[] | null }> {
  const path = `/v1/tickets/${encodeURIComponent(id)}`;
  const [detail, history] = await Promise.all([
    api<TicketDetail>(path),
    api<{ history: HistoryEntry[] }>(`${path}/history`).then((page) => page.history).catch(() => null),
  ]);
  return { detail, history };
}

export function useTicket(id: string): TicketData {
  const [state, setState] = useState<State>({ id: "", detail: null, history: [], error: null });
  const idRef = useRef(id);
  useEffect(() => {
    idRef.current = id;
  }, [id]);

  // reads overlap (the changes feed, the in-flight poll, a PATCH): an older answer never wins
  const issued = useRef(0);
  const applied = useRef(0);
  const refresh = useCallback(async () => {
    const wanted = idRef.current;
    const seq = ++issued.current;
    try {
      const { detail, history } = await read(wanted);
      if (idRef.current !== wanted || seq < applied.current) return;
      applied.current = seq;
      setState((prev) => ({
        id: wanted, detail, error: null, history: history ?? (prev.id === wanted ? prev.history : []),
      }));
    } catch (error) {
      if (idRef.current !== wanted) return;
      setState((prev) => ({ ...prev, id: wanted, error: error as Error }));
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [id, refresh]);

  useChangesFeed(useCallback((tickets: TicketView[]) => {
    if (tickets.some((ticket) => ticket.id === idRef.current || ticket.merged_into === idRef.current)) void refresh();
  }, [refresh]));

  const current = state.id === id ? state.detail : null;
  const waiting = useMemo(() => {
    const now = Date.now();
    return current?.messages.some((message) => inFlight(message, now)) ?? false;
  }, [current]);
  useEffect(() => {
    if (!waiting) return undefined;
    const timer = window.setInterval(() => {
      if (!document.hidden) void refresh();
    }, IN_FLIGHT_POLL_MS);
    return () => window.clearInterval(timer);
  }, [waiting, refresh]);

  const update = useCallback(async (patch: TicketPatch) => {
    const version = current?.ticket.version;
    try {
      const answer = await api<{ ticket: TicketView }>(`/v1/tickets/${encodeURIComponent(id)}`, {
        method: "PATCH", body: { ...patch, version },
      });
      setState((prev) => (prev.detail && prev.id === id ? { ...prev, detail: { ...prev.detail, ticket: answer.ticket } } : prev));
      void refresh();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        await refresh();
        throw new ConflictError(error.message);
      }
      throw error;
    }
  }, [current?.ticket.version, id, refresh]);

  const putMessage = useCallback((message: Message) => {
    setState((prev) => {
      if (!prev.detail || prev.id !== id) return prev;
      const others = prev.detail.messages.filter((item) => item.id !== message.id);
      return { ...prev, detail: { ...prev.detail, messages: [...others, message] } };
    });
  }, [id]);

  return {
    detail: current, history: state.id === id ? state.history : [], loading: state.id !== id && !state.error,
    error: state.id === id ? state.error : null, refresh, update, putMessage,
  };
}
