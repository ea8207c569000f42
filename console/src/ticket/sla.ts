import type { SlaTarget, TicketView } from "../api/types";

export interface SlaSummary {
  state: "breached" | "warning" | "active" | "paused";
  metric: SlaTarget["metric"];
  due_at: string | null;
}

const rank: Record<SlaSummary["state"], number> = { breached: 0, warning: 1, active: 2, paused: 3 };

/** The running target that matters most: breached, then at risk, then the next due. */
export function slaSummary(ticket: Pick<TicketView, "sla">): SlaSummary | null {
  let best: SlaSummary | null = null;
  for (const target of ticket.sla ?? []) {
    const state = target.state ?? "active";
    if (state === "met" || target.done_at) continue;
    const candidate: SlaSummary = { state, metric: target.metric, due_at: target.due_at ?? null };
    if (!best || rank[state] < rank[best.state]
        || (rank[state] === rank[best.state] && (candidate.due_at ?? "~") < (best.due_at ?? "~"))) {
      best = candidate;
    }
  }
  return best;
}
