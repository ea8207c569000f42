// Reports read on demand: every 60 s while the tab is visible, at once when it becomes
// visible again, and whenever the query changes. The last answer stays on screen while
// the next one loads, so a refresh never blanks the page.
import { useCallback, useEffect, useState } from "react";
import { getReport, type Query } from "./api";

export const REFRESH_MS = 60_000;

/** A counter that moves on every refresh: the interval, the tab coming back, or `bump()`. */
export function useRefreshTick(intervalMs: number = REFRESH_MS): [number, () => void] {
  const [tick, setTick] = useState(0);
  const bump = useCallback(() => setTick((value) => value + 1), []);
  useEffect(() => {
    const visible = () => document.visibilityState === "visible";
    const timer = window.setInterval(() => { if (visible()) bump(); }, intervalMs);
    const onVisibility = () => { if (visible()) bump(); };
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [intervalMs, bump]);
  return [tick, bump];
}

export interface ReportState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  /** When the data on screen was read (ISO). */
  at: string | null;
}

interface Settled<T> {
  key: string;
  data: T | null;
  error: unknown;
  at: string | null;
}

function keyOf(path: string | null, query: Query, tick: number): string {
  const entries = Object.entries(query).filter(([, value]) => value !== undefined && value !== null && value !== "");
  entries.sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([path, entries, tick]);
}

/** GET `path` with `query`, again on each `tick`; `path` null: nothing to read (yet). */
export function useReport<T>(path: string | null, query: Query, tick: number): ReportState<T> {
  const key = keyOf(path, query, tick);
  const [settled, setSettled] = useState<Settled<T>>({ key: "", data: null, error: null, at: null });

  useEffect(() => {
    const [target, entries] = JSON.parse(key) as [string | null, [string, string | number][]];
    if (target === null) return;
    const controller = new AbortController();
    getReport<T>(target, Object.fromEntries(entries), controller.signal).then(
      (data) => setSettled({ key, data, error: null, at: new Date().toISOString() }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setSettled((last) => ({ ...last, key, error }));
      },
    );
    return () => controller.abort();
  }, [key]);

  const pending = path !== null && settled.key !== key;
  return { data: settled.data, error: settled.error, loading: pending, at: settled.at };
}
