// The inbox's tickets for the current filters: the first page, more on demand, and the
// changes the feed reports merged in (re-checked against the filters by the hub).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api/client";
import type { TicketView } from "../api/types";
import { useMe } from "../auth/session";
import { byActivity, filtersKey, matches, type Filters } from "./filters";

const PAGE = 50;
/** No filters is the key "": before the first answer the state names no filters at all. */
const NOT_LOADED = "\u0000";

interface TicketPage {
  tickets: TicketView[];
  next_cursor: string | null;
}

interface ListState {
  key: string;
  generation: number;
  tickets: TicketView[];
  next: string | null;
  loading: boolean;
  error: string | null;
}

export interface TicketList {
  tickets: TicketView[];
  loading: boolean;
  error: string | null;
  hasMore: boolean;
  loadMore: () => void;
  reload: () => void;
  /** Merge tickets that changed elsewhere (the changes feed). */
  applyChanges: (changed: TicketView[]) => Promise<void>;
  /** A ticket this page changed itself (resolve): replaced, or dropped when it left the view. */
  update: (ticket: TicketView) => void;
}

function merge(current: TicketView[], changedIds: Set<string>, keep: TicketView[]): TicketView[] {
  const rest = current.filter((ticket) => !changedIds.has(ticket.id));
  return [...rest, ...keep].sort(byActivity);
}

/** Which of the changed tickets still match: the hub's answer, chunked by the 100-ids limit. */
async function stillMatching(filters: Filters, ids: string[]): Promise<TicketView[]> {
  const found: TicketView[] = [];
  for (let start = 0; start < ids.length; start += 100) {
    const chunk = ids.slice(start, start + 100);
    const page = await api<TicketPage>("/v1/tickets", { query: { ...filters, ids: chunk.join(","), limit: 100 } });
    found.push(...page.tickets);
  }
  return found;
}

export function useTicketList(filters: Filters): TicketList {
  const me = useMe();
  const key = filtersKey(filters);
  const [generation, setGeneration] = useState(0);
  const [state, setState] = useState<ListState>({ key: NOT_LOADED, generation, tickets: [], next: null, loading: true, error: null });
  const filtersRef = useRef(filters);
  useEffect(() => {
    filtersRef.current = filters;
  }, [filters]);

  useEffect(() => {
    const controller = new AbortController();
    api<TicketPage>("/v1/tickets", { query: { ...filtersRef.current, limit: PAGE }, signal: controller.signal })
      .then((page) => setState({ key, generation, tickets: page.tickets, next: page.next_cursor, loading: false, error: null }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ key, generation, tickets: [], next: null, loading: false, error: String((error as Error).message ?? error) });
      });
    return () => controller.abort();
  }, [key, generation]);

  const loadMore = useCallback(() => {
    if (!state.next || state.loading) return;
    const cursor = state.next;
    setState((prev) => ({ ...prev, loading: true }));
    api<TicketPage>("/v1/tickets", { query: { ...filtersRef.current, limit: PAGE, cursor } })
      .then((page) => setState((prev) => {
        if (prev.key !== key) return prev;
        const known = new Set(prev.tickets.map((ticket) => ticket.id));
        const added = page.tickets.filter((ticket) => !known.has(ticket.id));
        return { ...prev, tickets: [...prev.tickets, ...added], next: page.next_cursor, loading: false };
      }))
      .catch((error: unknown) => setState((prev) => ({ ...prev, loading: false, error: String((error as Error).message) })));
  }, [state.next, state.loading, key]);

  const applyChanges = useCallback(async (changed: TicketView[]) => {
    const latest = new Map(changed.map((ticket) => [ticket.id, ticket]));
    const ids = [...latest.keys()];
    const viewFilters = filtersRef.current;
    let keep: TicketView[];
    try {
      keep = await stillMatching(viewFilters, ids);
    } catch {
      keep = [...latest.values()].filter((ticket) => matches(ticket, viewFilters, me));
    }
    setState((prev) => (prev.key !== filtersKey(viewFilters) ? prev
      : { ...prev, tickets: merge(prev.tickets, new Set(ids), keep) }));
  }, [me]);

  const update = useCallback((ticket: TicketView) => {
    const keep = matches(ticket, filtersRef.current, me) ? [ticket] : [];
    setState((prev) => ({ ...prev, tickets: merge(prev.tickets, new Set([ticket.id]), keep) }));
  }, [me]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);

  const current = state.key === key;
  const fresh = current && state.generation === generation;
  return useMemo(() => ({
    tickets: current ? state.tickets : [],
    loading: state.loading || !fresh,
    error: state.error,
    hasMore: state.next !== null,
    loadMore, reload, applyChanges, update,
  }), [state, current, fresh, loadMore, reload, applyChanges, update]);
}
