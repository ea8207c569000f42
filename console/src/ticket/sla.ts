import type { SlaTarget, TicketView } from "../api/types";

export interface SlaSummary {
  state: "breached" | "warning" | "active" | "paused";
  metric: SlaTarget["metric"];
  due_at: string | null;
}

const rank: Record<SlaSummary["state"], number> = { breached: 0, warning: 1, active: 2, paused: 3 };

/**
 * A running target's state as the hub's list filter reads it: past due is breached, past
 * its warning time at risk — even before the scheduler has recorded the new state.
 */
export function effectiveState(target: SlaTarget, now: number): SlaSummary["state"] | null {
  const state = target.state ?? "active";
  if (state === "met" || target.done_at) return null;
  if (state === "paused") return "paused";
  if (state === "breached" || (target.due_at && Date.parse(target.due_at) <= now)) return "breached";
  if (state === "warning" || (target.warn_at && Date.parse(target.warn_at) <= now)) return "warning";
  return "active";
}

/** The running target that matters most: breached, then at risk, then the next due. */
export function slaSummary(ticket: Pick<TicketView, "sla">, now = Date.now()): SlaSummary | null {
  let best: SlaSummary | null = null;
  for (const target of ticket.sla ?? []) {
    const state = effectiveState(target, now);
    if (!state) continue;
    const candidate: SlaSummary = { state, metric: target.metric, due_at: target.due_at ?? null };
    if (!best || rank[state] < rank[best.state]
        || (rank[state] === rank[best.state] && (candidate.due_at ?? "~") < (best.due_at ?? "~"))) {
      best = candidate;
    }
  }
  return best;
}
