// Shapes the hub's API answers with (docs/openapi.json is the reference). Feature folders
// add their own next to their code; what several pages share lives here.
export type Stage = "accept" | "triage" | "handle" | "resolve" | "follow_up";
export type Status = "new" | "open" | "pending" | "on_hold" | "solved" | "closed" | "merged";
export type Priority = "urgent" | "high" | "normal" | "low";

export interface AgentView {
  id: string;
  email: string;
  name: string;
  role: "admin" | "supervisor" | "agent";
  status: string;
  availability: "online" | "away" | "offline";
  group_ids: string[];
  capacity: number;
}

export interface Me {
  agent: AgentView;
  tenant_id: string;
  scopes: string[];
  /** The tenant's defaults: the console's language and every time shown. */
  tenant: { name: string; time_zone: string; language: "en" | "zh" };
  /** The agent's own: language (null: the tenant's) and saved inbox views. */
  preferences: { language: "en" | "zh" | null; views: SavedView[] };
}

export interface SavedView {
  id: string;
  name: string;
  /** query parameters of GET /v1/tickets */
  filters: Record<string, string>;
}

/** One running SLA target of a ticket (docs/openapi.json SlaTarget). */
export interface SlaTarget {
  metric: "first_response" | "next_response" | "resolution" | "follow_up";
  policy_id: string;
  started_at: string;
  target_minutes: number;
  due_at?: string | null;
  warn_at?: string | null;
  done_at?: string | null;
  remaining_seconds?: number | null;
  state?: "active" | "paused" | "warning" | "breached" | "met";
  business_hours?: boolean;
}

/** A ticket as GET /v1/tickets, /v1/tickets/{id} and /v1/changes answer it. */
export interface TicketView {
  id: string;
  tenant_id: string;
  customer_id: string;
  channel: string;
  subject?: string;
  status: Status;
  priority: Priority;
  stage?: Stage | null;
  assignee_id?: string | null;
  group_id?: string | null;
  category?: string | null;
  language?: string | null;
  tags?: string[];
  sla?: SlaTarget[];
  sla_policy_id?: string | null;
  created_at: string;
  last_activity_at: string;
  updated_at?: string | null;
  first_response_at?: string | null;
  awaiting_since?: string | null;
  solved_at?: string | null;
  merged_into?: string | null;
  follow_up_of?: string | null;
  version: number;
}

/** GET /v1/changes: tickets changed after the cursor, oldest change first. */
export interface ChangesPage {
  cursor: string;
  tickets: TicketView[];
  more: boolean;
}
