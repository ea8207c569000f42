// "Which rules would fire": a sample ticket, customer and message run through the saved
// rules (or the draft given) by POST /v1/rules/test; nothing changes.
import { useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { testRules } from "../api/rules";
import type { RuleBody, RuleTest, RuleTestResult, Trigger } from "../api/types";
import { ErrorBox } from "../common/ErrorBox";
import { Field } from "../common/Field";
import { ListInput } from "../common/ListInput";
import { useAction } from "../common/useAction";
import { adminMessages, type AdminKey } from "../messages";
import { ACTOR_KINDS, PRIORITIES, STATUSES } from "./steps";
import { TestResult } from "./TestResult";

const triggers: Trigger[] = ["ticket.created", "message.created", "ticket.updated", "time"];
const changeFields = ["status", "priority", "assignee_id", "group_id", "category", "language", "tags", "sla_policy_id"];

interface Props {
  rules?: RuleBody[];
  defaultTrigger?: Trigger;
  /** channel names to offer (the installed channel plugins) */
  channels?: string[];
}

interface Sample {
  trigger: Trigger;
  status: string;
  priority: string;
  channel: string;
  subject: string;
  category: string;
  language: string;
  ticketTags: string[];
  customerTags: string[];
  attributes: string;
  message: string;
  hours: "" | "true" | "false";
  field: string;
  before: string;
  after: string;
  actor: string;
}

function attributesOf(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) attributes[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return attributes;
}

function requestOf(sample: Sample, rules?: RuleBody[]): RuleTest {
  const request: RuleTest = {
    trigger: sample.trigger,
    ticket: {
      status: sample.status, priority: sample.priority, subject: sample.subject, tags: sample.ticketTags,
      channel: sample.channel || null, category: sample.category || null, language: sample.language || null,
    },
    customer: { tags: sample.customerTags, attributes: attributesOf(sample.attributes) },
    within_business_hours: sample.hours === "" ? null : sample.hours === "true",
  };
  if (sample.trigger === "ticket.created" || sample.trigger === "message.created") {
    request.message = { text: sample.message, channel: sample.channel || null };
  }
  if (sample.trigger === "ticket.updated") {
    request.changes = [{ field: sample.field, before: sample.before || null, after: sample.after || null }];
    request.actor = { kind: sample.actor };
  }
  if (rules) request.rules = rules;
  return request;
}

export function RuleTester({ rules, defaultTrigger, channels = [] }: Props) {
  const t = useT(adminMessages);
  const [sample, setSample] = useState<Sample>({
    trigger: defaultTrigger ?? "message.created", status: "open", priority: "normal", channel: "wechat", subject: "",
    category: "", language: "", ticketTags: [], customerTags: [], attributes: "", message: "", hours: "",
    field: "priority", before: "normal", after: "urgent", actor: "agent",
  });
  const [result, setResult] = useState<RuleTestResult | null>(null);
  const set = (patch: Partial<Sample>) => setSample({ ...sample, ...patch });
  const run = useAction(async () => setResult(await testRules(requestOf(sample, rules))));

  function submit(event: FormEvent) {
    event.preventDefault();
    void run.run();
  }

  return (
    <section data-testid="rule-tester">
      <h2>{t("tester")}</h2>
      <p className="admin-empty">{t("testerHint")}</p>
      <form className="admin-form" onSubmit={submit}>
        <div className="admin-row">
          <Field label={t("trigger")}>
            <select value={sample.trigger} data-testid="tester-trigger" onChange={(event) => set({ trigger: event.target.value as Trigger })}>
              {triggers.map((value) => <option key={value} value={value}>{t(`trigger_${value.replace(".", "_")}` as AdminKey)}</option>)}
            </select>
          </Field>
          <Field label={t("status")}>
            <select value={sample.status} data-testid="tester-status" onChange={(event) => set({ status: event.target.value })}>
              {STATUSES.map((value) => <option key={value} value={value}>{value}</option>)}
            </select>
          </Field>
          <Field label={t("priority")}>
            <select value={sample.priority} data-testid="tester-priority" onChange={(event) => set({ priority: event.target.value })}>
              {PRIORITIES.map((value) => <option key={value} value={value}>{value}</option>)}
            </select>
          </Field>
          <Field label={t("channel")}>
            <input value={sample.channel} list="tester-channels" data-testid="tester-channel"
                   onChange={(event) => set({ channel: event.target.value })} />
            <datalist id="tester-channels">{channels.map((name) => <option key={name} value={name} />)}</datalist>
          </Field>
          <Field label={t("businessHours")}>
            <select value={sample.hours} data-testid="tester-hours" onChange={(event) => set({ hours: event.target.value as Sample["hours"] })}>
              <option value="">{t("bh_default")}</option>
              <option value="true">{t("yes")}</option>
              <option value="false">{t("no")}</option>
            </select>
          </Field>
        </div>
        <div className="admin-row">
          <Field label={t("subject")}>
            <input value={sample.subject} data-testid="tester-subject" onChange={(event) => set({ subject: event.target.value })} />
          </Field>
          <Field label={t("category")}>
            <input value={sample.category} onChange={(event) => set({ category: event.target.value })} />
          </Field>
          <Field label={t("language")}>
            <input value={sample.language} placeholder="zh-CN" onChange={(event) => set({ language: event.target.value })} />
          </Field>
          <Field label={t("ticketTags")} hint={t("commaHint")}>
            <ListInput value={sample.ticketTags} onChange={(ticketTags) => set({ ticketTags })} testId="tester-ticket-tags" />
          </Field>
        </div>
        <div className="admin-row">
          <Field label={t("customerTags")} hint={t("commaHint")}>
            <ListInput value={sample.customerTags} onChange={(customerTags) => set({ customerTags })} testId="tester-customer-tags" />
          </Field>
          <Field label={t("attributes")}>
            <textarea value={sample.attributes} rows={2} placeholder="complaint_risk=high"
                      onChange={(event) => set({ attributes: event.target.value })} />
          </Field>
        </div>
        {(sample.trigger === "ticket.created" || sample.trigger === "message.created") && (
          <Field label={t("sampleMessage")}>
            <textarea value={sample.message} data-testid="tester-message" onChange={(event) => set({ message: event.target.value })} />
          </Field>
        )}
        {sample.trigger === "ticket.updated" && (
          <div className="admin-row">
            <Field label={`${t("change")}: ${t("field")}`}>
              <select value={sample.field} onChange={(event) => set({ field: event.target.value })}>
                {changeFields.map((value) => <option key={value} value={value}>{value}</option>)}
              </select>
            </Field>
            <Field label={t("before")}>
              <input value={sample.before} onChange={(event) => set({ before: event.target.value })} />
            </Field>
            <Field label={t("after")}>
              <input value={sample.after} onChange={(event) => set({ after: event.target.value })} />
            </Field>
            <Field label={t("actor")}>
              <select value={sample.actor} onChange={(event) => set({ actor: event.target.value })}>
                {ACTOR_KINDS.map((value) => <option key={value} value={value}>{value}</option>)}
              </select>
            </Field>
          </div>
        )}
        <ErrorBox error={run.error} />
        <div className="admin-actions">
          <button type="submit" className="primary" disabled={run.busy} data-testid="tester-run">
            {run.busy ? t("working") : t("runTest")}
          </button>
        </div>
      </form>
      {result && <TestResult result={result} />}
    </section>
  );
}
