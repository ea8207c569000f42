// The reports API (GET /v1/reports/...) exactly as the contract answers it, and the CSV
// export of any of them: fetched with the token in a header, saved through a Blob.
import { api } from "../api/client";
import type { Stage } from "../api/types";

export const STAGES: readonly Stage[] = ["accept", "triage", "handle", "resolve", "follow_up"];

/** Common parameters: an inclusive period in the tenant's zone and at most one filter. */
export type ReportQuery = {
  from?: string;
  to?: string;
  channel?: string;
  group?: string;
  agent?: string;
};

export type Query = Record<string, string | number | undefined | null>;

export interface DurationKpi {
  count: number;
  median_seconds: number | null;
  p90_seconds: number | null;
  average_seconds: number | null;
  business_median_seconds: number | null;
  target_seconds: number | null;
  within_target: number | null;
}

export interface SlaTarget {
  met: number;
  breached: number;
  attainment: number | null;
}

export interface AgeBucket {
  label: string;
  count: number;
}

export type CsatScore = "1" | "2" | "3" | "4" | "5";

export interface Kpis {
  first_response: DurationKpi;
  next_reply: DurationKpi;
  resolution: DurationKpi;
  handle: DurationKpi;
  fcr: { rate: number | null; count: number; eligible: number; target: number | null };
  reopen_rate: { rate: number | null; reopened: number; solved: number };
  csat: {
    average: number | null;
    responses: number;
    sent: number;
    response_rate: number | null;
    distribution: Record<CsatScore, number>;
    target: number | null;
  };
  sla: { first_response: SlaTarget; next_response: SlaTarget; resolution: SlaTarget };
  closure_rate: { rate: number | null; closed: number; created: number; target: number | null };
  backlog: { open: number; oldest_seconds: number | null; age_buckets: AgeBucket[] };
  volume: { created: number; by_channel: Record<string, number>; by_hour: number[] };
  automation_rate: { rate: number | null; automated: number; solved: number };
}

export interface Summary {
  period: { from: string; to: string; time_zone: string };
  filters: { channel: string | null; group: string | null; agent: string | null };
  kpis: Kpis;
}

export const METRICS = [
  "created", "solved", "first_response_median", "csat_average", "fcr_rate", "sla_attainment", "backlog",
] as const;
export type Metric = (typeof METRICS)[number];

export interface Timeseries {
  dates: string[];
  series: Partial<Record<Metric, (number | null)[]>>;
}

export type BreakdownBy = "agent" | "group" | "channel";

export interface BreakdownRow {
  key: string;
  name: string;
  created: number;
  solved: number;
  first_response_median_seconds: number | null;
  handle_median_seconds: number | null;
  fcr_rate: number | null;
  csat_average: number | null;
  csat_responses: number;
  sla_attainment: number | null;
}

export interface Breakdown {
  by: BreakdownBy;
  rows: BreakdownRow[];
}

export interface FlowStage {
  stage: Stage;
  entered: number;
  left: number;
  current: number;
  median_seconds: number | null;
  p90_seconds: number | null;
}

export interface FlowLink {
  source: Stage;
  target: Stage;
  value: number;
}

export interface Flow {
  stages: FlowStage[];
  links: FlowLink[];
  slowest: Stage | null;
}

export interface IssueCount {
  name: string;
  count: number;
  previous: number;
  change: number;
}

export interface TopIssues {
  week: string;
  previous_week: string;
  categories: IssueCount[];
  intents: IssueCount[];
  tags: IssueCount[];
}

/** The agents and groups the filter offers (readable by every agent of the tenant). */
export interface Named {
  id: string;
  name: string;
}

export const reportPaths = {
  summary: "/v1/reports/summary",
  timeseries: "/v1/reports/timeseries",
  breakdown: "/v1/reports/breakdown",
  flow: "/v1/reports/flow",
  topIssues: "/v1/reports/top-issues",
} as const;

export function getReport<T>(path: string, query: Query, signal?: AbortSignal): Promise<T> {
  return api<T>(path, { query, signal });
}

export async function listAgents(): Promise<Named[]> {
  return (await api<{ agents: Named[] }>("/v1/agents")).agents;
}

export async function listGroups(): Promise<Named[]> {
  return (await api<{ groups: Named[] }>("/v1/groups")).groups;
}

/** The same report as CSV, downloaded as a file: no token ever goes into a URL. */
export async function downloadCsv(path: string, query: Query, filename: string): Promise<void> {
  const text = await api<string>(path, { query: { ...query, format: "csv" }, accept: "text/csv" });
  const body = typeof text === "string" ? text : JSON.stringify(text);
  const href = URL.createObjectURL(new Blob([body], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = href;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 1000);
}
