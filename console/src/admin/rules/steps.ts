// What each condition and action of a rule takes (docs/workflow.md, the openapi schemas),
// so one editor draws them all and the JSON it sends is what the hub validates.
import type { Step } from "../api/types";

export type RefKind = "group" | "agent" | "policy" | "template" | "connector" | "channel";
export type FieldKind = "text" | "textarea" | "list" | "enum" | "multi" | "bool" | "ref";

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  options?: readonly string[];
  ref?: RefKind;
  /** left out of the JSON when empty */
  optional?: boolean;
  /** sent as null when empty */
  nullable?: boolean;
  initial?: unknown;
}

export const PRIORITIES = ["urgent", "high", "normal", "low"] as const;
export const STATUSES = ["new", "open", "pending", "on_hold", "solved", "closed", "merged"] as const;
const MATCH = ["any", "all", "none"] as const;
const CHANGED_FIELDS = ["status", "priority", "assignee_id", "group_id", "category", "language", "tags", "sla_policy_id"] as const;
export const ACTOR_KINDS = ["agent", "rule", "customer", "system", "connector", "api_key"] as const;

export const conditionSpecs: Record<string, FieldSpec[]> = {
  channel: [{ name: "values", kind: "list" }],
  customer_tag: [{ name: "match", kind: "enum", options: MATCH }, { name: "values", kind: "list" }],
  customer_attribute: [
    { name: "key", kind: "text" },
    { name: "op", kind: "enum", options: ["equals", "in", "exists", "missing"] },
    { name: "values", kind: "list", optional: true },
  ],
  text: [
    { name: "keywords", kind: "list", optional: true },
    { name: "match", kind: "enum", options: ["word", "substring"] },
    { name: "fields", kind: "multi", options: ["subject", "message"], initial: ["subject", "message"] },
    { name: "regex", kind: "text", optional: true },
    { name: "case_sensitive", kind: "bool" },
  ],
  language: [{ name: "values", kind: "list" }],
  category: [{ name: "values", kind: "list", optional: true }, { name: "empty", kind: "bool" }],
  priority: [{ name: "op", kind: "enum", options: ["in", "not_in"] }, { name: "values", kind: "multi", options: PRIORITIES }],
  status: [{ name: "op", kind: "enum", options: ["in", "not_in"] }, { name: "values", kind: "multi", options: STATUSES }],
  within_business_hours: [{ name: "value", kind: "bool", initial: true }],
  sla_state: [
    { name: "metric", kind: "enum", options: ["", "first_response", "next_response", "resolution", "follow_up"], nullable: true },
    { name: "states", kind: "multi", options: ["active", "paused", "warning", "breached", "met"] },
  ],
  ticket_tag: [{ name: "match", kind: "enum", options: MATCH }, { name: "values", kind: "list" }],
  changed: [{ name: "fields", kind: "multi", options: CHANGED_FIELDS }, { name: "to", kind: "text", optional: true }],
  actor: [{ name: "kinds", kind: "multi", options: ACTOR_KINDS }],
};

export const actionSpecs: Record<string, FieldSpec[]> = {
  set_priority: [{ name: "priority", kind: "enum", options: PRIORITIES }],
  set_status: [{ name: "status", kind: "enum", options: STATUSES.filter((s) => s !== "merged") }],
  set_category: [{ name: "category", kind: "text", nullable: true }],
  add_tags: [{ name: "tags", kind: "list" }],
  remove_tags: [{ name: "tags", kind: "list" }],
  assign_group: [{ name: "group_id", kind: "ref", ref: "group" }],
  assign_agent: [{ name: "agent_id", kind: "ref", ref: "agent" }],
  apply_sla_policy: [{ name: "policy_id", kind: "ref", ref: "policy" }],
  send_template: [{ name: "code", kind: "ref", ref: "template" }],
  add_note: [{ name: "text", kind: "textarea" }],
  notify_connector: [{ name: "connector", kind: "ref", ref: "connector" }, { name: "note", kind: "text", optional: true }],
  set_customer_tags: [{ name: "add", kind: "list", optional: true }, { name: "remove", kind: "list", optional: true }],
  set_customer_attribute: [{ name: "key", kind: "text" }, { name: "value", kind: "text", nullable: true }],
};

function initial(field: FieldSpec): unknown {
  if (field.initial !== undefined) return field.initial;
  switch (field.kind) {
    case "list":
    case "multi":
      return [];
    case "bool":
      return false;
    case "enum":
      return field.options?.[0] ?? "";
    default:
      return "";
  }
}

/** A new step of a type, every field at its starting value. */
export function blankStep(type: string, specs: Record<string, FieldSpec[]>): Step {
  const step: Step = { type };
  for (const field of specs[type] ?? []) step[field.name] = initial(field);
  return step;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
}

/** The step as the hub takes it: empty optional fields left out, empty nullable ones null. */
export function cleanStep(step: Step, specs: Record<string, FieldSpec[]>): Step {
  const fields = specs[step.type];
  if (!fields) return step;
  const clean: Step = { ...step }; // fields this editor does not know of are kept as read
  for (const field of fields) {
    const value = step[field.name];
    if (isEmpty(value)) {
      if (field.nullable) clean[field.name] = null;
      else if (field.optional) delete clean[field.name];
      else clean[field.name] = value ?? initial(field);
    } else {
      clean[field.name] = value;
    }
  }
  return clean;
}

/** A step read from the hub, with the fields the editor shows filled in. */
export function openStep(step: Step, specs: Record<string, FieldSpec[]>): Step {
  const open: Step = { ...step };
  for (const field of specs[step.type] ?? []) {
    if (open[field.name] === undefined || open[field.name] === null) {
      open[field.name] = field.kind === "list" || field.kind === "multi" ? [] : field.kind === "bool" ? false : "";
    }
  }
  return open;
}

/** `type: a=1, b=[x, y]` for lists of results. */
export function describeStep(step: Step): string {
  return Object.entries(step)
    .filter(([key, value]) => key !== "type" && !isEmpty(value))
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(", ") : String(value)}`)
    .join("; ");
}
