// Rules: the list with their enabled state, the editor, version history, delete, and
// the "which rules would fire" tester.
import { useMemo, useState } from "react";
import { useT } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { listAgents, listGroups } from "../api/agents";
import { listPlugins } from "../api/plugins";
import { deleteRule, listRules, replaceRule } from "../api/rules";
import { listPolicies } from "../api/sla";
import { listTemplates } from "../api/templates";
import type { Rule } from "../api/types";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import { useAction } from "../common/useAction";
import { useLoad } from "../common/useLoad";
import { adminMessages, type AdminKey } from "../messages";
import { bodyOfRule } from "./ruleBody";
import { RuleEditor } from "./RuleEditor";
import { RuleTester } from "./RuleTester";
import { RuleVersions } from "./RuleVersions";
import type { RefOptions } from "./StepEditor";

const activeAgents = () => listAgents(false);

function ordered(rules: Rule[]): Rule[] {
  return [...rules].sort((a, b) => a.trigger.localeCompare(b.trigger) || (a.position ?? 0) - (b.position ?? 0) || a.id.localeCompare(b.id));
}

export default function RulesPage() {
  const t = useT(adminMessages);
  const time = useTimeFormat();
  const rules = useLoad(listRules);
  const groups = useLoad(listGroups);
  const agents = useLoad(activeAgents);
  const policies = useLoad(listPolicies);
  const templates = useLoad(listTemplates);
  const plugins = useLoad(listPlugins);
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const [history, setHistory] = useState<Rule | null>(null);
  const who = (by: string) => {
    const agent = agents.data?.find((a) => `agent:${a.id}` === by);
    return agent ? agent.name : by;
  };
  const toggle = useAction(async (rule: Rule) => {
    await replaceRule(rule.id, { ...bodyOfRule(rule), enabled: rule.enabled === false }, rule.version);
    rules.reload();
  });
  const refs: RefOptions = useMemo(() => ({
    group: (groups.data ?? []).map((g) => ({ value: g.id, label: g.name })),
    agent: (agents.data ?? []).filter((a) => a.status === "active").map((a) => ({ value: a.id, label: `${a.name} <${a.email}>` })),
    policy: (policies.data ?? []).map((p) => ({ value: p.id, label: p.name })),
    template: (templates.data ?? []).map((tpl) => ({ value: tpl.code, label: `${tpl.code} — ${tpl.title}` })),
    connector: (plugins.data ?? []).filter((p) => p.kind === "connector").map((p) => ({ value: p.name, label: p.name })),
    channel: (plugins.data ?? []).filter((p) => p.kind === "channel").map((p) => ({ value: p.name, label: p.name })),
  }), [groups.data, agents.data, policies.data, templates.data, plugins.data]);

  return (
    <section data-testid="admin-rules">
      <h1>{t("rules")}</h1>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="rule-new" onClick={() => setEditing("new")}>{t("newRule")}</button>
        <span className="spacer" />
        {rules.loading && <span className="admin-empty">{t("loading")}</span>}
      </div>
      <ErrorBox error={rules.error ?? toggle.error} />
      <table className="admin-table" data-testid="admin-table">
        <thead>
          <tr>
            <th>{t("trigger")}</th><th>{t("position")}</th><th>{t("name")}</th><th>{t("conditions")} → {t("actions")}</th><th>{t("enabled")}</th>
            <th>{t("version")}</th><th>{t("updated")}</th><th>{t("actions")}</th>
          </tr>
        </thead>
        <tbody>
          {ordered(rules.data ?? []).map((rule) => (
            <tr key={rule.id} data-testid="rule-row" data-rule-id={rule.id} className={rule.enabled === false ? "muted" : undefined}>
              <td>{t(`trigger_${rule.trigger.replace(".", "_")}` as AdminKey)}</td>
              <td>{rule.position}</td>
              <td>{rule.name}</td>
              <td>
                <small>
                  {[...(rule.conditions?.all ?? []), ...(rule.conditions?.any ?? [])].map((c) => t(`cond_${c.type}` as AdminKey)).join(", ") || t("any")}
                  {" → "}
                  {rule.actions.map((a) => t(`act_${a.type}` as AdminKey)).join(", ")}
                </small>
              </td>
              <td>
                <label className="admin-check">
                  <input type="checkbox" checked={rule.enabled !== false} disabled={toggle.busy} data-testid="rule-toggle"
                         onChange={() => void toggle.run(rule)} />
                  {rule.enabled === false ? t("disabled") : t("enabled")}
                </label>
              </td>
              <td>v{rule.version}</td>
              <td>{time(rule.updated_at)} <small>{who(rule.updated_by)}</small></td>
              <td className="actions">
                <button type="button" data-testid="rule-edit" onClick={() => setEditing(rule)}>{t("edit")}</button>
                <button type="button" data-testid="rule-history" onClick={() => setHistory(rule)}>{t("history")}</button>
                <ConfirmButton label={t("delete")} testId="rule-delete" question={t("confirmDelete", { name: rule.name })}
                               onConfirm={() => deleteRule(rule)} onDone={rules.reload} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rules.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}
      {editing && (
        <RuleEditor rule={editing === "new" ? null : editing} refs={refs} onClose={() => setEditing(null)}
                    onSaved={() => { setEditing(null); rules.reload(); }} />
      )}
      {history && <RuleVersions rule={history} onClose={() => setHistory(null)} />}
      <RuleTester channels={refs.channel.map((option) => option.value)} />
    </section>
  );
}
