// One channel or connector: state, enable/disable, configure, webhook URL (the web chat
// widget: its embed code) and the provider's setup steps (as the API gives them, else a
// pointer to the channel's docs).
import { useT } from "../../i18n";
import { disablePlugin, enablePlugin } from "../api/plugins";
import type { Plugin } from "../api/types";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import { useAction } from "../common/useAction";
import { adminMessages, type AdminKey } from "../messages";
import { WebhookUrls } from "./WebhookUrls";
import { WidgetSnippet } from "./WidgetSnippet";

const KIND: Record<string, AdminKey> = { channel: "kind_channel", connector: "kind_connector", assistant: "kind_assistant" };

interface Props {
  plugin: Plugin;
  onConfigure: () => void;
  onChanged: () => void;
}

export function PluginCard({ plugin, onConfigure, onChanged }: Props) {
  const t = useT(adminMessages);
  const enable = useAction(async () => {
    await enablePlugin(plugin.name);
    onChanged();
  });
  const steps = plugin.setup_steps ?? [];
  return (
    <article className="admin-card" data-testid={`plugin-${plugin.name}`} data-enabled={plugin.enabled ? "true" : "false"}>
      <header>
        <h2>{plugin.name}</h2>
        <span className="admin-badge">{t(KIND[plugin.kind] ?? "kind_connector")}</span>
        <span className={`admin-badge ${plugin.enabled ? "on" : "off"}`} data-testid="plugin-state">
          {plugin.enabled ? t("enabled") : t("disabled")}
        </span>
        {!plugin.configured && <span className="admin-badge warn">{t("notConfigured")}</span>}
        <small className="hint">v{plugin.version}</small>
      </header>
      {plugin.summary && <p className="summary">{plugin.summary}</p>}
      <div className="admin-toolbar">
        <button type="button" data-testid="plugin-configure" onClick={onConfigure}>{t("configure")}</button>
        {plugin.enabled ? (
          <ConfirmButton label={t("disable")} testId="plugin-disable" question={t("confirmDisable", { name: plugin.name })}
                         onConfirm={() => disablePlugin(plugin.name)} onDone={onChanged} />
        ) : plugin.configured ? (
          <button type="button" className="primary" disabled={enable.busy} data-testid="plugin-enable" onClick={() => void enable.run()}>
            {enable.busy ? t("working") : t("enable")}
          </button>
        ) : (
          <button type="button" className="primary" data-testid="plugin-enable" onClick={onConfigure}>{t("enable")}</button>
        )}
      </div>
      <ErrorBox error={enable.error} />
      {plugin.kind === "channel" && (plugin.name === "widget" ? <WidgetSnippet plugin={plugin} /> : <WebhookUrls plugin={plugin} />)}
      {plugin.kind === "channel" && (
        <div data-testid="plugin-setup">
          <strong>{t("setupSteps")}</strong>
          {steps.length ? (
            <ol>{steps.map((step, index) => <li key={index}>{step}</li>)}</ol>
          ) : (
            <p className="hint"><small>{t("docsFor", { name: plugin.name })}</small></p>
          )}
        </div>
      )}
    </article>
  );
}
