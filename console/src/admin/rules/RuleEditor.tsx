// Create or change a rule: a structured editor (trigger, conditions, actions) or the JSON
// for power users; the hub's 422 names what it refused. A draft can be tested unsaved.
import { useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { createRule, replaceRule } from "../api/rules";
import type { Rule, RuleBody, Since, Trigger } from "../api/types";
import { ErrorBox } from "../common/ErrorBox";
import { Field } from "../common/Field";
import { Modal } from "../common/Modal";
import { useAction } from "../common/useAction";
import { adminMessages, type AdminKey } from "../messages";
import { bodyOf, bodyOfRule, draftOf, type RuleDraft } from "./ruleBody";
import { RuleTester } from "./RuleTester";
import type { RefOptions } from "./StepEditor";
import { StepList } from "./StepList";
import { actionSpecs, conditionSpecs } from "./steps";

const triggers: Trigger[] = ["ticket.created", "message.created", "ticket.updated", "time"];
const sinces: Since[] = ["created", "updated", "status_changed", "awaiting_since"];

interface Props {
  rule: Rule | null;
  refs: RefOptions;
  onClose: () => void;
  onSaved: () => void;
}

function problemOf(body: RuleBody, t: (key: AdminKey) => string): string | null {
  if (!body.name?.trim()) return `${t("name")}: ${t("required")}`;
  if (!body.actions?.length) return t("needAction");
  if (body.trigger === "time" && (!body.hours_since || body.hours_since <= 0 || !body.since)) return t("needHours");
  return null;
}

export function RuleEditor({ rule, refs, onClose, onSaved }: Props) {
  const t = useT(adminMessages);
  const [draft, setDraft] = useState<RuleDraft>(() => draftOf(rule ? bodyOfRule(rule) : null));
  const [view, setView] = useState<"form" | "json">("form");
  const [json, setJson] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const set = (patch: Partial<RuleDraft>) => setDraft({ ...draft, ...patch });
  const save = useAction(async (body: RuleBody) => {
    await (rule ? replaceRule(rule.id, body, rule.version) : createRule(body));
    onSaved();
  });

  /** The body in whichever view is open, or why the JSON is not valid. */
  function readBody(): { body: RuleBody | null; error: string | null } {
    if (view === "form") return { body: bodyOf(draft), error: null };
    try {
      return { body: JSON.parse(json) as RuleBody, error: null };
    } catch (error) {
      return { body: null, error: t("invalidJson", { reason: (error as Error).message }) };
    }
  }

  function currentBody(): RuleBody | null {
    const { body, error } = readBody();
    if (error) setProblem(error);
    return body;
  }

  function switchView(next: "form" | "json") {
    if (next === view) return;
    if (next === "json") {
      setJson(JSON.stringify(bodyOf(draft), null, 2));
      setProblem(null);
      setView("json");
      return;
    }
    const body = currentBody();
    if (!body) return;
    setDraft(draftOf(body));
    setProblem(null);
    setView("form");
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const body = currentBody();
    if (!body) return;
    const found = problemOf(body, t);
    setProblem(found);
    if (!found) void save.run(body);
  }

  const testBody = testing ? readBody().body : null;

  return (
    <Modal title={rule ? `${t("editRule")}: ${rule.name}` : t("newRule")} onClose={onClose} wide testId="rule-editor">
      <div className="admin-toolbar">
        <button type="button" className={view === "form" ? "primary" : undefined} data-testid="rule-view-form"
                onClick={() => switchView("form")}>{t("formView")}</button>
        <button type="button" className={view === "json" ? "primary" : undefined} data-testid="rule-view-json"
                onClick={() => switchView("json")}>{t("jsonView")}</button>
      </div>
      <form className="admin-form" onSubmit={submit} noValidate>
        {view === "json" ? (
          <textarea className="admin-json" value={json} spellCheck={false} data-testid="rule-json"
                    onChange={(event) => setJson(event.target.value)} />
        ) : (
          <>
            <div className="admin-row">
              <Field label={t("name")}>
                <input value={draft.name} maxLength={200} data-testid="rule-name" autoFocus
                       onChange={(event) => set({ name: event.target.value })} />
              </Field>
              <Field label={t("trigger")}>
                <select value={draft.trigger} data-testid="rule-trigger"
                        onChange={(event) => set({ trigger: event.target.value as Trigger })}>
                  {triggers.map((value) => (
                    <option key={value} value={value}>{t(`trigger_${value.replace(".", "_")}` as AdminKey)}</option>
                  ))}
                </select>
              </Field>
              <Field label={t("position")}>
                <input type="number" min={0} value={draft.position} data-testid="rule-position"
                       onChange={(event) => set({ position: event.target.value })} />
              </Field>
              <label className="admin-check">
                <input type="checkbox" checked={draft.enabled} data-testid="rule-enabled"
                       onChange={(event) => set({ enabled: event.target.checked })} />
                {t("enabled")}
              </label>
            </div>
            {draft.trigger === "time" && (
              <div className="admin-row">
                <Field label={t("hoursSince")}>
                  <input type="number" min={0} step="any" value={draft.hours_since} data-testid="rule-hours"
                         onChange={(event) => set({ hours_since: event.target.value })} />
                </Field>
                <Field label={t("since")}>
                  <select value={draft.since} data-testid="rule-since" onChange={(event) => set({ since: event.target.value as Since })}>
                    {sinces.map((value) => <option key={value} value={value}>{t(`since_${value}` as AdminKey)}</option>)}
                  </select>
                </Field>
              </div>
            )}
            <fieldset>
              <legend>{t("conditions")}: {t("allOf")}</legend>
              <StepList steps={draft.all} specs={conditionSpecs} prefix="cond_" refs={refs} firstType="channel"
                        addLabel={t("addCondition")} testId="rule-all" onChange={(all) => set({ all })} />
            </fieldset>
            <fieldset>
              <legend>{t("conditions")}: {t("anyOf")}</legend>
              <StepList steps={draft.any} specs={conditionSpecs} prefix="cond_" refs={refs} firstType="channel"
                        addLabel={t("addCondition")} testId="rule-any" onChange={(any) => set({ any })} />
            </fieldset>
            <fieldset>
              <legend>{t("actions")}</legend>
              <StepList steps={draft.actions} specs={actionSpecs} prefix="act_" refs={refs} firstType="set_priority"
                        addLabel={t("addAction")} testId="rule-actions" onChange={(actions) => set({ actions })} />
            </fieldset>
          </>
        )}
        {problem && <div className="admin-error" data-testid="rule-problem">{problem}</div>}
        <ErrorBox error={save.error} />
        <div className="admin-actions">
          <button type="button" data-testid="rule-test-draft" onClick={() => setTesting(!testing)}>{t("testDraft")}</button>
          <span className="spacer" />
          <button type="button" onClick={onClose}>{t("cancel")}</button>
          <button type="submit" className="primary" disabled={save.busy} data-testid="rule-save">
            {save.busy ? t("working") : t("save")}
          </button>
        </div>
      </form>
      {testing && testBody && (
        <RuleTester rules={[testBody]} defaultTrigger={testBody.trigger} channels={refs.channel.map((option) => option.value)} />
      )}
    </Modal>
  );
}
