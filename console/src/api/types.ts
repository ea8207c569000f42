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
