// Rules: list, create, replace at a version, delete, versions, and the tester.
import { api } from "../../api/client";
import type { Rule, RuleBody, RuleTest, RuleTestResult, RuleVersion } from "./types";

const id = encodeURIComponent;

export async function listRules(): Promise<Rule[]> {
  return (await api<{ rules: Rule[] }>("/v1/rules")).rules;
}

export function createRule(body: RuleBody): Promise<Rule> {
  return api<Rule>("/v1/rules", { method: "POST", body });
}

export function replaceRule(ruleId: string, body: RuleBody, version: number): Promise<Rule> {
  return api<Rule>(`/v1/rules/${id(ruleId)}`, { method: "PUT", body: { ...body, version } });
}

export function deleteRule(rule: Rule): Promise<RuleVersion> {
  return api<RuleVersion>(`/v1/rules/${id(rule.id)}`, { method: "DELETE", query: { version: rule.version } });
}

export async function ruleVersions(ruleId: string): Promise<RuleVersion[]> {
  return (await api<{ versions: RuleVersion[] }>(`/v1/rules/${id(ruleId)}/versions`)).versions;
}

export function testRules(sample: RuleTest): Promise<RuleTestResult> {
  return api<RuleTestResult>("/v1/rules/test", { method: "POST", body: sample });
}
