// The inbox's filters are GET /v1/tickets's query parameters, kept in the page's URL
// (`/console/inbox?stage=handle`) so a view can be linked, reloaded and saved.
import type { Me, TicketView } from "../api/types";
import { effectiveState } from "../ticket/sla";

export const FILTER_KEYS = ["status", "assignee", "group", "stage", "sla", "priority", "channel", "tag"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filters = Partial<Record<FilterKey, string>>;

export type BuiltinView = "mine" | "groups" | "unassigned" | "all" | "at-risk" | "breached";

export const BUILTIN_VIEWS: { name: BuiltinView; filters: Filters }[] = [
  { name: "mine", filters: { assignee: "me" } },
  { name: "groups", filters: { group: "mine" } },
  { name: "unassigned", filters: { assignee: "none" } },
  { name: "all", filters: {} },
  { name: "at-risk", filters: { sla: "at_risk" } },
  { name: "breached", filters: { sla: "breached" } },
];

export function isFilterKey(key: string): key is FilterKey {
  return (FILTER_KEYS as readonly string[]).includes(key);
}

export function filtersFromSearch(params: URLSearchParams): Filters {
  const filters: Filters = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  return filters;
}

/** Only the known keys of a saved view (an old view may name one the hub dropped). */
export function cleanFilters(raw: Record<string, string>): Filters {
  const filters: Filters = {};
  for (const [key, value] of Object.entries(raw)) if (isFilterKey(key) && value) filters[key] = value;
  return filters;
}

export function filtersKey(filters: Filters): string {
  return FILTER_KEYS.filter((key) => filters[key]).map((key) => `${key}=${filters[key]}`).join("&");
}

export function sameFilters(a: Filters, b: Filters): boolean {
  return filtersKey(a) === filtersKey(b);
}

function matchesAssignee(ticket: TicketView, value: string, me: Me): boolean {
  if (value === "me") return ticket.assignee_id === me.agent.id;
  if (value === "none") return !ticket.assignee_id;
  return ticket.assignee_id === value;
}

/** As the hub: `breached` a running target past due, `at_risk` past its warning time and not yet due. */
function matchesSla(ticket: TicketView, value: string): boolean {
  const now = Date.now();
  const states = (ticket.sla ?? []).map((target) => effectiveState(target, now));
  if (value === "breached") return states.includes("breached");
  return !states.includes("breached") && states.includes("warning");
}

/**
 * The hub's own answer (GET /v1/tickets?ids=…) decides whether a changed ticket still belongs
 * to the view; this is the fallback when that call fails.
 */
export function matches(ticket: TicketView, filters: Filters, me: Me): boolean {
  const checks: Record<FilterKey, (value: string) => boolean> = {
    status: (value) => ticket.status === value,
    assignee: (value) => matchesAssignee(ticket, value, me),
    group: (value) => (value === "mine" ? me.agent.group_ids.includes(ticket.group_id ?? "") : ticket.group_id === value),
    stage: (value) => ticket.stage === value,
    sla: (value) => matchesSla(ticket, value),
    priority: (value) => ticket.priority === value,
    channel: (value) => ticket.channel === value,
    tag: (value) => (ticket.tags ?? []).includes(value),
  };
  return FILTER_KEYS.every((key) => {
    const value = filters[key];
    return !value || checks[key](value);
  });
}

/** Newest activity first, as the hub lists them. */
export function byActivity(a: TicketView, b: TicketView): number {
  return a.last_activity_at < b.last_activity_at ? 1 : a.last_activity_at > b.last_activity_at ? -1 : 0;
}
