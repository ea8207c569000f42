// Configure a plugin with a form generated from its config schema; secrets are write-only.
// An enabled plugin's config is replaced (PUT .../config); a disabled one may be saved and
// enabled at once (POST .../enable with the config).
import { useMemo, useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { configurePlugin, enablePlugin, type PluginConfigBody } from "../api/plugins";
import type { Plugin } from "../api/types";
import { ErrorBox } from "../common/ErrorBox";
import { Field } from "../common/Field";
import { Modal } from "../common/Modal";
import { useAction } from "../common/useAction";
import { adminMessages } from "../messages";
import { buildConfig, initialDraft, type Draft } from "./configDraft";
import { fieldsOf } from "./schema";
import { SchemaField } from "./SchemaField";

interface Props {
  plugin: Plugin;
  onClose: () => void;
  onSaved: () => void;
}

export function PluginConfigForm({ plugin, onClose, onSaved }: Props) {
  const t = useT(adminMessages);
  const fields = useMemo(() => fieldsOf(plugin.config_schema), [plugin.config_schema]);
  const [draft, setDraft] = useState<Draft>(() => initialDraft(fields, plugin));
  const [attempts, setAttempts] = useState(plugin.max_delivery_attempts ? String(plugin.max_delivery_attempts) : "");
  const [tried, setTried] = useState(false);
  const built = buildConfig(fields, draft, plugin, t);
  const attemptsProblem = attempts && (!Number.isInteger(Number(attempts)) || Number(attempts) < 1 || Number(attempts) > 100) ? "1–100" : null;
  const save = useAction(async (enable: boolean) => {
    const body: PluginConfigBody = { config: built.config };
    if (plugin.kind === "connector" && attempts) body.max_delivery_attempts = Number(attempts);
    await (enable ? enablePlugin(plugin.name, body) : configurePlugin(plugin.name, body));
    onSaved();
  });

  function submit(event: FormEvent, enable: boolean) {
    event.preventDefault();
    setTried(true);
    if (!Object.keys(built.problems).length && !attemptsProblem) void save.run(enable);
  }

  return (
    <Modal title={t("configOf", { name: plugin.name })} onClose={onClose} wide testId="plugin-config-form">
      {plugin.config_schema.description && <p className="hint"><small>{plugin.config_schema.description}</small></p>}
      <p className="admin-warning"><small>{t("secretHint")}</small></p>
      <form className="admin-form" onSubmit={(event) => submit(event, !plugin.enabled)} noValidate data-plugin={plugin.name}>
        {fields.map((field) => (
          <SchemaField key={field.name} field={field} value={draft[field.name]} stored={plugin.config?.[field.name]}
                       problem={tried ? built.problems[field.name] ?? null : null}
                       onChange={(value) => setDraft({ ...draft, [field.name]: value })} />
        ))}
        {plugin.kind === "connector" && (
          <Field label={t("maxAttempts")} problem={tried ? attemptsProblem : null}>
            <input type="number" min={1} max={100} value={attempts} data-testid="config-max-attempts"
                   onChange={(event) => setAttempts(event.target.value)} />
          </Field>
        )}
        <ErrorBox error={save.error} />
        <div className="admin-actions">
          <button type="button" onClick={onClose}>{t("cancel")}</button>
          {!plugin.enabled && plugin.configured && (
            <button type="button" disabled={save.busy} data-testid="plugin-save-only" onClick={(event) => submit(event, false)}>
              {t("save")}
            </button>
          )}
          <button type="submit" className="primary" disabled={save.busy} data-testid="plugin-save">
            {save.busy ? t("working") : plugin.enabled ? t("save") : t("enableAndSave")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
