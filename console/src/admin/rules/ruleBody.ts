// A rule as the editor holds it and as the hub takes it.
import type { Rule, RuleBody, Step } from "../api/types";
import { actionSpecs, cleanStep, conditionSpecs, openStep } from "./steps";

export interface RuleDraft {
  name: string;
  trigger: RuleBody["trigger"];
  position: string;
  enabled: boolean;
  all: Step[];
  any: Step[];
  actions: Step[];
  hours_since: string;
  since: NonNullable<RuleBody["since"]>;
}

export function draftOf(rule: RuleBody | null): RuleDraft {
  return {
    name: rule?.name ?? "",
    trigger: rule?.trigger ?? "ticket.created",
    position: rule?.position === null || rule?.position === undefined ? "" : String(rule.position),
    enabled: rule?.enabled ?? true,
    all: (rule?.conditions?.all ?? []).map((step) => openStep(step, conditionSpecs)),
    any: (rule?.conditions?.any ?? []).map((step) => openStep(step, conditionSpecs)),
    actions: (rule?.actions ?? [{ type: "set_priority", priority: "high" }]).map((step) => openStep(step, actionSpecs)),
    hours_since: rule?.hours_since ? String(rule.hours_since) : "",
    since: rule?.since ?? "created",
  };
}

export function bodyOf(draft: RuleDraft): RuleBody {
  const body: RuleBody = {
    name: draft.name.trim(),
    trigger: draft.trigger,
    enabled: draft.enabled,
    conditions: {
      all: draft.all.map((step) => cleanStep(step, conditionSpecs)),
      any: draft.any.map((step) => cleanStep(step, conditionSpecs)),
    },
    actions: draft.actions.map((step) => cleanStep(step, actionSpecs)),
  };
  if (draft.position.trim() !== "") body.position = Number(draft.position);
  if (draft.trigger === "time") {
    body.hours_since = draft.hours_since === "" ? null : Number(draft.hours_since);
    body.since = draft.since;
  }
  return body;
}

/** What a stored rule is without its bookkeeping (id, version, updated_*). */
export function bodyOfRule(rule: Rule): RuleBody {
  const { name, trigger, position, enabled, conditions, actions, hours_since, since } = rule;
  const body: RuleBody = { name, trigger, position, enabled, conditions, actions };
  if (trigger === "time") Object.assign(body, { hours_since, since });
  return body;
}
