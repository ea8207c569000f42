// "What changed since my cursor": GET /v1/changes polled every 3 s with If-None-Match, so a
// quiet tenant costs one 304 per poll. Paused while the tab is hidden, polled at once when
// it shows again. The first call (no cursor) only learns where "now" is.
import { useEffect, useRef } from "react";
import { ApiError, call } from "./client";
import type { ChangesPage, TicketView } from "./types";

export const CHANGES_INTERVAL_MS = 3000;
/** An error (the hub restarting, the endpoint missing) slows the poll down, never stops it. */
const BACKOFF_MS = [3000, 6000, 15000, 30000];

interface FeedState {
  cursor: string | null;
  etag: string | null;
}

async function readChanges(state: FeedState, signal: AbortSignal): Promise<TicketView[]> {
  const changed: TicketView[] = [];
  for (let page = 0; page < 10; page += 1) {
    const answer = await call<ChangesPage>("/v1/changes", {
      query: { cursor: state.cursor },
      etag: state.etag ?? undefined,
      signal,
    });
    if (answer.status === 304 || !answer.body) return changed;
    state.cursor = answer.body.cursor;
    state.etag = answer.etag ?? `"${answer.body.cursor}"`;
    changed.push(...answer.body.tickets);
    if (!answer.body.more) break;
  }
  return changed;
}

/**
 * Calls `onTickets` with every batch of changed tickets (never with an empty one).
 * `enabled: false` stops polling (the cursor is kept for when it resumes).
 */
export function useChangesFeed(onTickets: (tickets: TicketView[]) => void, enabled = true): void {
  const handler = useRef(onTickets);
  useEffect(() => {
    handler.current = onTickets;
  }, [onTickets]);

  useEffect(() => {
    if (!enabled) return undefined;
    const state: FeedState = { cursor: null, etag: null };
    const controller = new AbortController();
    let timer: number | undefined;
    let failures = 0;
    let running = false;

    async function poll() {
      window.clearTimeout(timer);
      if (running || document.hidden || controller.signal.aborted) return;
      running = true;
      try {
        const hadCursor = state.cursor !== null;
        const tickets = await readChanges(state, controller.signal);
        failures = 0;
        if (hadCursor && tickets.length > 0) handler.current(tickets);
      } catch (error) {
        if (controller.signal.aborted) return;
        failures += 1;
        if (error instanceof ApiError && error.status === 410) state.cursor = null;
      } finally {
        running = false;
      }
      schedule();
    }

    function schedule() {
      if (controller.signal.aborted || document.hidden) return;
      const delay = failures === 0 ? CHANGES_INTERVAL_MS : BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
      timer = window.setTimeout(() => void poll(), delay);
    }

    function onVisibility() {
      if (document.hidden) window.clearTimeout(timer);
      else void poll();
    }

    document.addEventListener("visibilitychange", onVisibility);
    void poll();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [enabled]);
}
