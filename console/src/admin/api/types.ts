// Shapes of the admin API's answers (docs/openapi.json): agents, groups, rules, SLA,
// calendars, templates, macros, plugins, keys, audit and settings.
import type { AgentView, Priority, Status } from "../../api/types";

export type Role = "admin" | "supervisor" | "agent";
export type Assignment = "round_robin" | "least_loaded" | "manual";

export interface Agent extends Omit<AgentView, "status"> {
  status: "active" | "deactivated" | "removed";
  created_at: string;
  updated_at: string;
  removed_at?: string | null;
}

export interface AgentDraft {
  email: string;
  name: string;
  role: Role;
  group_ids: string[];
  capacity: number;
}

export interface AgentCreated {
  agent: Agent;
  temporary_password: string;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  assignment: Assignment;
  created_at: string;
  updated_at: string;
}

export type Trigger = "ticket.created" | "message.created" | "ticket.updated" | "time";
export type Since = "created" | "updated" | "status_changed" | "awaiting_since";

/** One condition or action: `type` plus the fields that type takes (docs/workflow.md). */
export type Step = { type: string } & Record<string, unknown>;

export interface Conditions {
  all?: Step[];
  any?: Step[];
}

export interface RuleBody {
  name: string;
  trigger: Trigger;
  position?: number | null;
  enabled?: boolean;
  conditions?: Conditions;
  actions: Step[];
  hours_since?: number | null;
  since?: Since | null;
}

export interface Rule extends RuleBody {
  id: string;
  version: number;
  updated_at: string;
  updated_by: string;
}

export interface RuleVersion {
  rule: Rule;
  deleted?: boolean;
}

export interface RuleTest {
  trigger: Trigger;
  ticket?: Record<string, unknown>;
  customer?: { tags?: string[]; attributes?: Record<string, string>; display_name?: string | null } | null;
  message?: { text: string; channel?: string | null } | null;
  changes?: { field: string; before?: unknown; after?: unknown }[];
  actor?: { kind: string; id?: string | null; name?: string | null } | null;
  within_business_hours?: boolean | null;
  at?: string | null;
  rules?: RuleBody[] | null;
}

export interface RuleTestResult {
  trigger: Trigger;
  fired: { rule_id: string; name: string; actions: Step[] }[];
  not_fired: {
    rule_id: string;
    name: string;
    reason: "disabled" | "loop_guard" | "chain_limit" | "too_early" | "conditions";
    group?: "all" | "any" | null;
    index?: number | null;
    condition?: Step | null;
  }[];
  patch: Record<string, unknown>;
  side_effects: { rule_id: string; action: Step }[];
  chain: string[];
}

export type Metric = "first_response_minutes" | "next_response_minutes" | "resolution_minutes";
export type SlaTargets = Partial<Record<Metric, number | null>>;

export interface SlaPolicyFields {
  name: string;
  position: number;
  conditions: {
    priorities?: Priority[];
    channels?: string[];
    customer_tags?: string[];
    group_ids?: string[];
    categories?: string[];
  };
  business_hours: boolean;
  calendar_id: string | null;
  targets: Partial<Record<Priority, SlaTargets>>;
}

export interface SlaPolicy extends SlaPolicyFields {
  id: string;
  version: number;
  created_at?: string | null;
  updated_at?: string | null;
}

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export interface Interval {
  start: string;
  end: string;
}

export interface CalendarFields {
  name: string;
  time_zone: string;
  week: Partial<Record<Weekday, Interval[]>>;
  holidays: string[];
}

export interface Calendar extends CalendarFields {
  id: string;
  version: number;
  updated_at?: string | null;
}

export interface TemplateFields {
  title: string;
  texts: Record<string, string>;
  tags: string[];
}

export interface ReplyTemplate extends TemplateFields {
  code: string;
  version: number;
  updated_at: string;
  updated_by: string;
}

export interface Rendered {
  code: string;
  version: number;
  language: string;
  text: string;
}

export interface MacroActions {
  patch?: {
    status?: Status | null;
    priority?: Priority | null;
    assignee_id?: string | null;
    group_id?: string | null;
    category?: string | null;
    add_tags?: string[];
    remove_tags?: string[];
  };
  reply_template?: string | null;
  note?: string | null;
}

export interface MacroFields {
  name: string;
  description: string;
  actions: MacroActions;
}

export interface Macro extends MacroFields {
  id: string;
  version: number;
  updated_at: string;
  updated_by: string;
}

/** A JSON Schema node as the plugins' pydantic models produce them. */
export interface SchemaNode {
  type?: string;
  title?: string;
  description?: string;
  enum?: (string | number)[];
  anyOf?: SchemaNode[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  propertyNames?: SchemaNode;
  required?: string[];
  default?: unknown;
  format?: string;
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  "x-switchboard-rotation"?: string;
}

export interface Plugin {
  name: string;
  kind: "channel" | "connector" | "assistant";
  version: string;
  summary: string;
  enabled: boolean;
  configured: boolean;
  config: Record<string, unknown> | null;
  config_schema: SchemaNode;
  max_delivery_attempts?: number | null;
  setup_steps?: string[];
  webhook_urls?: string[];
}

export type Scope = "tenant-admin" | "agent" | "read-only" | "reply";

export interface ApiKey {
  key_id: string;
  prefix: string;
  name: string;
  scopes: string[];
  created_at: string;
  created_by: string;
  expires_at?: string | null;
  revoked_at?: string | null;
}

export interface KeyCreated extends ApiKey {
  key: string;
}

export interface AuditRecord {
  id: string;
  at: string;
  tenant_id: string | null;
  action: string;
  target: string;
  actor: {
    agent_id?: string | null;
    agent_name?: string | null;
    key_id?: string;
    key_name?: string;
    scopes?: string[];
    source_ip?: string;
    via?: string;
  };
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export interface AuditPage {
  records: AuditRecord[];
  next_cursor?: string | null;
}

export type Visibility = "all" | "groups" | "assigned";

export interface TenantSettings {
  public_base_url: string | null;
  message_retention_days: number;
  raw_retention_days: number;
  language: string;
  time_zone: string;
  workflow: {
    auto_close_hours: number;
    sla_warning_minutes: number;
    default_calendar_id: string | null;
    visibility: Partial<Record<Role, Visibility>>;
  };
  surveys: {
    enabled: boolean;
    delay_minutes: number;
    texts: Record<string, string>;
    link_text: Record<string, string>;
    expires_hours: number;
    follow_up_threshold: number;
    follow_up_sla_hours: number;
    comment_window_hours: number;
  };
}

export interface Tenant {
  id: string;
  name: string;
  status: "active" | "suspended";
  settings: TenantSettings;
  enabled_plugins: string[];
  created_at: string;
}
