// The period and filter the dashboard shows live in the URL (?days=7, ?from=&to=,
// ?channel= | ?group= | ?agent=), so a view can be bookmarked and shared.
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import { useLocale } from "../i18n";
import type { ReportQuery } from "./api";
import { addDays, todayIn } from "./format";

export type Preset = 7 | 30 | 90;
export type Dimension = "channel" | "group" | "agent";
export const PRESETS: readonly Preset[] = [7, 30, 90];
export const DIMENSIONS: readonly Dimension[] = ["channel", "group", "agent"];

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export interface DashboardQuery {
  /** null: a custom period */
  preset: Preset | null;
  from: string;
  to: string;
  dimension: Dimension | null;
  value: string;
  report: ReportQuery;
  setPreset: (preset: Preset) => void;
  setCustom: (from: string, to: string) => void;
  setFilter: (dimension: Dimension | null, value: string) => void;
}

function presetOf(text: string | null): Preset {
  const days = Number(text);
  return (PRESETS as readonly number[]).includes(days) ? (days as Preset) : 30;
}

export function useDashboardQuery(): DashboardQuery {
  const [params, setParams] = useSearchParams();
  const { timeZone } = useLocale();
  const today = todayIn(timeZone);
  const customFrom = params.get("from") ?? "";
  const customTo = params.get("to") ?? "";
  const custom = DAY.test(customFrom) && DAY.test(customTo);
  const preset = custom ? null : presetOf(params.get("days"));
  const from = custom ? customFrom : addDays(today, -((preset ?? 30) - 1));
  const to = custom ? customTo : today;
  const dimension = DIMENSIONS.find((name) => params.get(name)) ?? null;
  const value = dimension ? (params.get(dimension) ?? "") : "";

  const update = useCallback((change: (next: URLSearchParams) => void) => {
    setParams((current) => {
      const next = new URLSearchParams(current);
      change(next);
      return next;
    }, { replace: true });
  }, [setParams]);

  const setPreset = useCallback((days: Preset) => update((next) => {
    next.delete("from");
    next.delete("to");
    next.set("days", String(days));
  }), [update]);

  const setCustom = useCallback((start: string, end: string) => update((next) => {
    next.delete("days");
    next.set("from", start <= end ? start : end);
    next.set("to", start <= end ? end : start);
  }), [update]);

  const setFilter = useCallback((name: Dimension | null, id: string) => update((next) => {
    for (const each of DIMENSIONS) next.delete(each);
    if (name && id) next.set(name, id);
  }), [update]);

  const report = useMemo<ReportQuery>(() => {
    const query: ReportQuery = { from, to };
    if (dimension && value) query[dimension] = value;
    return query;
  }, [from, to, dimension, value]);

  return { preset, from, to, dimension, value, report, setPreset, setCustom, setFilter };
}
