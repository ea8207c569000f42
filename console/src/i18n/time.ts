// Every time the console shows is in the tenant's time zone, in the agent's language.
import { useCallback } from "react";
import { useLocale, type Locale } from "./index";

const tags: Record<Locale, string> = { en: "en-GB", zh: "zh-CN" };

export function formatTime(iso: string | null | undefined, locale: Locale, timeZone: string,
                           style: "datetime" | "date" | "time" = "datetime"): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = { timeZone };
  if (style !== "time") Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit" });
  if (style !== "date") Object.assign(options, { hour: "2-digit", minute: "2-digit" });
  return new Intl.DateTimeFormat(tags[locale], options).format(date);
}

/** A duration in words a person reads at a glance: 45 s, 12 min, 3.5 h, 2.1 d. */
export function formatDuration(seconds: number | null | undefined, locale: Locale): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const units: [number, string, string][] = [[86400, "d", "天"], [3600, "h", "小时"], [60, "min", "分钟"], [1, "s", "秒"]];
  for (const [size, en, zh] of units) {
    if (Math.abs(seconds) >= size || size === 1) {
      const value = seconds / size;
      const text = value >= 10 || size === 1 ? Math.round(value).toString() : value.toFixed(1);
      return locale === "zh" ? `${text}${zh}` : `${text} ${en}`;
    }
  }
  return "—";
}

export function useTimeFormat(): (iso: string | null | undefined, style?: "datetime" | "date" | "time") => string {
  const { locale, timeZone } = useLocale();
  return useCallback((iso, style = "datetime") => formatTime(iso, locale, timeZone, style), [locale, timeZone]);
}
