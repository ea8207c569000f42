// Numbers, rates, dates and the green/amber/red judgement of a figure against its target.
import type { Locale } from "../i18n";

const tags: Record<Locale, string> = { en: "en-GB", zh: "zh-CN" };

export function formatCount(value: number | null | undefined, locale: Locale): string {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(tags[locale]).format(value);
}

/** A 0..1 rate as a percentage with one decimal where it matters (97.5%, 100%). */
export function formatRate(rate: number | null | undefined, locale: Locale): string {
  if (rate === null || rate === undefined) return "—";
  return new Intl.NumberFormat(tags[locale], { style: "percent", maximumFractionDigits: 1 }).format(rate);
}

export function formatScore(score: number | null | undefined, locale: Locale): string {
  if (score === null || score === undefined) return "—";
  return new Intl.NumberFormat(tags[locale], { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(score);
}

/** A YYYY-MM-DD calendar day (already the tenant's) in the agent's language. */
export function formatDay(day: string, locale: Locale, withYear = true): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  const options: Intl.DateTimeFormatOptions = { timeZone: "UTC", month: "short", day: "numeric" };
  if (withYear) options.year = "numeric";
  return new Intl.DateTimeFormat(tags[locale], options).format(date);
}

/** Today in the tenant's zone, YYYY-MM-DD. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** The ISO week (2026-W49) a YYYY-MM-DD day falls in. */
export function isoWeek(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0
  date.setUTCDate(date.getUTCDate() - weekday + 3); // that week's Thursday decides the year
  const year = date.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(year, 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() - ((firstThursday.getUTCDay() + 6) % 7) + 3);
  const week = 1 + Math.round((date.getTime() - firstThursday.getTime()) / (7 * 86400000));
  return `${year}-W${String(week).padStart(2, "0")}`;
}

export type Judgement = "good" | "warn" | "bad" | "none";

/** Lower is better (durations): within the target, within half as much again, beyond. */
export function judgeBelow(value: number | null, target: number | null): Judgement {
  if (value === null || target === null) return "none";
  if (value <= target) return "good";
  return value <= target * 1.5 ? "warn" : "bad";
}

/** Higher is better (rates, scores): at the target, within `margin` of it, below. */
export function judgeAbove(value: number | null, target: number | null, margin: number): Judgement {
  if (value === null || target === null) return "none";
  if (value >= target) return "good";
  return value >= target - margin ? "warn" : "bad";
}

/** Lower is better for a rate with no target from the hub (reopen rate). */
export function judgeRateBelow(value: number | null, good: number, bad: number): Judgement {
  if (value === null) return "none";
  if (value <= good) return "good";
  return value <= bad ? "warn" : "bad";
}

/** The ISO week `weeks` away from `week` (2026-W49, -1 → 2026-W48). */
export function shiftWeek(week: string, weeks: number): string {
  const match = /^(\d{4})-W(\d{2})$/.exec(week);
  if (!match) return week;
  const jan4 = new Date(Date.UTC(Number(match[1]), 0, 4));
  const monday = new Date(jan4);
  monday.setUTCDate(jan4.getUTCDate() - ((jan4.getUTCDay() + 6) % 7) + (Number(match[2]) - 1 + weeks) * 7);
  return isoWeek(monday.toISOString().slice(0, 10));
}
