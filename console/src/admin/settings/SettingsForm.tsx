// The settings form: only what changed is sent (workflow and surveys are merged by the hub).
import { useState, type FormEvent } from "react";
import { useSession } from "../../auth/session";
import { useT } from "../../i18n";
import { updateSettings, type SettingsChange } from "../api/settings";
import type { Calendar, Role, Tenant, TenantSettings, Visibility } from "../api/types";
import { ErrorBox } from "../common/ErrorBox";
import { Field } from "../common/Field";
import { TimeZoneSelect } from "../common/TimeZoneSelect";
import { useAction } from "../common/useAction";
import { adminMessages } from "../messages";

const retention = [7, 30, 90, 180, 365, 730, 1095, 2555];
const roles: Role[] = ["agent", "supervisor", "admin"];
const visibilities: Visibility[] = ["all", "groups", "assigned"];
const URL_PATTERN = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

interface Props {
  tenant: Tenant;
  calendars: Calendar[];
}

function changes(tenant: Tenant, name: string, draft: TenantSettings): SettingsChange {
  const change: SettingsChange = {};
  if (name.trim() !== tenant.name) change.name = name.trim();
  for (const key of Object.keys(draft) as (keyof TenantSettings)[]) {
    if (JSON.stringify(draft[key]) !== JSON.stringify(tenant.settings[key])) {
      Object.assign(change, { [key]: draft[key] });
    }
  }
  return change;
}

export function SettingsForm({ tenant, calendars }: Props) {
  const t = useT(adminMessages);
  const { reload } = useSession();
  const [base, setBase] = useState(tenant);
  const [name, setName] = useState(tenant.name);
  const [draft, setDraft] = useState<TenantSettings>(tenant.settings);
  const [done, setDone] = useState(false);
  const set = (patch: Partial<TenantSettings>) => { setDone(false); setDraft({ ...draft, ...patch }); };
  const setWorkflow = (patch: Partial<TenantSettings["workflow"]>) => set({ workflow: { ...draft.workflow, ...patch } });
  const setSurveys = (patch: Partial<TenantSettings["surveys"]>) => set({ surveys: { ...draft.surveys, ...patch } });
  const urlProblem = draft.public_base_url && !URL_PATTERN.test(draft.public_base_url) ? t("badUrl") : null;
  const save = useAction(async () => {
    const change = changes(base, name, draft);
    if (Object.keys(change).length) {
      const saved = await updateSettings(change);
      setBase(saved);
      setDraft(saved.settings);
      // the console shows times in the tenant's zone and defaults to its language: read them again
      if (change.time_zone || change.language || change.name) await reload();
    }
    setDone(true);
  });
  const int = (text: string) => (text === "" ? 0 : Math.round(Number(text)));

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!urlProblem && name.trim()) void save.run();
  }

  return (
    <form className="admin-form" onSubmit={submit} noValidate data-testid="settings-form">
      <fieldset>
        <div className="admin-row">
          <Field label={t("tenantName")} problem={name.trim() ? null : t("required")}>
            <input value={name} maxLength={200} data-testid="settings-name" onChange={(event) => { setDone(false); setName(event.target.value); }} />
          </Field>
          <Field label={t("language")}>
            <select value={draft.language} data-testid="settings-language" onChange={(event) => set({ language: event.target.value })}>
              {!["en", "zh"].includes(draft.language) && <option value={draft.language}>{draft.language}</option>}
              <option value="en">English</option>
              <option value="zh">中文</option>
            </select>
          </Field>
          <Field label={t("timeZone")}>
            <TimeZoneSelect value={draft.time_zone} onChange={(zone) => set({ time_zone: zone })} testId="settings-time-zone" />
          </Field>
        </div>
        <Field label={t("publicBaseUrl")} problem={urlProblem}>
          <input value={draft.public_base_url ?? ""} placeholder="https://help.example.com" data-testid="settings-public-url"
                 onChange={(event) => set({ public_base_url: event.target.value.trim() || null })} />
        </Field>
        <div className="admin-row">
          <Field label={t("messageRetention")}>
            <select value={draft.message_retention_days} onChange={(event) => set({ message_retention_days: Number(event.target.value) })}>
              {retention.map((days) => <option key={days} value={days}>{days}</option>)}
            </select>
          </Field>
          <Field label={t("rawRetention")}>
            <select value={draft.raw_retention_days} onChange={(event) => set({ raw_retention_days: Number(event.target.value) })}>
              {retention.map((days) => <option key={days} value={days}>{days}</option>)}
            </select>
          </Field>
        </div>
      </fieldset>
      <fieldset>
        <legend>{t("workflow")}</legend>
        <div className="admin-row">
          <Field label={t("autoClose")}>
            <input type="number" min={1} max={2160} value={draft.workflow.auto_close_hours}
                   onChange={(event) => setWorkflow({ auto_close_hours: int(event.target.value) })} />
          </Field>
          <Field label={t("slaWarning")}>
            <input type="number" min={1} max={1440} value={draft.workflow.sla_warning_minutes}
                   onChange={(event) => setWorkflow({ sla_warning_minutes: int(event.target.value) })} />
          </Field>
          <Field label={t("defaultCalendar")}>
            <select value={draft.workflow.default_calendar_id ?? ""}
                    onChange={(event) => setWorkflow({ default_calendar_id: event.target.value || null })}>
              <option value="">{t("none")}</option>
              {calendars.map((calendar) => <option key={calendar.id} value={calendar.id}>{calendar.name}</option>)}
            </select>
          </Field>
        </div>
        <Field label={t("visibility")}>
          <div className="admin-row">
            {roles.map((role) => (
              <Field key={role} label={t(`role_${role}`)}>
                <select value={draft.workflow.visibility[role] ?? "all"} data-testid={`settings-visibility-${role}`}
                        onChange={(event) => setWorkflow({ visibility: { ...draft.workflow.visibility, [role]: event.target.value as Visibility } })}>
                  {visibilities.map((value) => <option key={value} value={value}>{t(`vis_${value}`)}</option>)}
                </select>
              </Field>
            ))}
          </div>
        </Field>
      </fieldset>
      <fieldset>
        <legend>{t("surveys")}</legend>
        <label className="admin-check">
          <input type="checkbox" checked={draft.surveys.enabled} data-testid="settings-surveys-enabled"
                 onChange={(event) => setSurveys({ enabled: event.target.checked })} />
          {t("surveysEnabled")}
        </label>
        <div className="admin-row">
          <Field label={t("surveyDelay")}>
            <input type="number" min={0} max={10080} value={draft.surveys.delay_minutes}
                   onChange={(event) => setSurveys({ delay_minutes: int(event.target.value) })} />
          </Field>
          <Field label={t("surveyExpires")}>
            <input type="number" min={1} max={720} value={draft.surveys.expires_hours}
                   onChange={(event) => setSurveys({ expires_hours: int(event.target.value) })} />
          </Field>
          <Field label={t("followUpThreshold")}>
            <select value={draft.surveys.follow_up_threshold}
                    onChange={(event) => setSurveys({ follow_up_threshold: Number(event.target.value) })}>
              {[1, 2, 3, 4].map((score) => <option key={score} value={score}>{score}</option>)}
            </select>
          </Field>
          <Field label={t("followUpSla")}>
            <input type="number" min={1} max={168} value={draft.surveys.follow_up_sla_hours}
                   onChange={(event) => setSurveys({ follow_up_sla_hours: int(event.target.value) })} />
          </Field>
          <Field label={t("commentWindow")}>
            <input type="number" min={0} max={168} value={draft.surveys.comment_window_hours}
                   onChange={(event) => setSurveys({ comment_window_hours: int(event.target.value) })} />
          </Field>
        </div>
        {Object.keys({ en: "", zh: "", ...draft.surveys.texts }).map((lang) => (
          <Field key={lang} label={t("surveyText", { lang })}>
            <textarea value={draft.surveys.texts[lang] ?? ""} maxLength={1000}
                      onChange={(event) => setSurveys({ texts: { ...draft.surveys.texts, [lang]: event.target.value } })} />
          </Field>
        ))}
        {Object.keys({ en: "", zh: "", ...draft.surveys.link_text }).map((lang) => (
          <Field key={`link-${lang}`} label={t("linkText", { lang })}>
            <input value={draft.surveys.link_text[lang] ?? ""} maxLength={200}
                   onChange={(event) => setSurveys({ link_text: { ...draft.surveys.link_text, [lang]: event.target.value } })} />
          </Field>
        ))}
      </fieldset>
      <ErrorBox error={save.error} />
      <div className="admin-actions">
        {done && <span className="admin-ok" data-testid="settings-saved">{t("saved")}</span>}
        <button type="submit" className="primary" disabled={save.busy} data-testid="settings-save">
          {save.busy ? t("working") : t("save")}
        </button>
      </div>
    </form>
  );
}
