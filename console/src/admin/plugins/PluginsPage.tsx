// Channels and connectors (GET /v1/plugins): enable, disable, configure from the schema.
import { useState } from "react";
import { useT } from "../../i18n";
import { listPlugins } from "../api/plugins";
import type { Plugin } from "../api/types";
import { ErrorBox } from "../common/ErrorBox";
import { useLoad } from "../common/useLoad";
import { adminMessages } from "../messages";
import { PluginCard } from "./PluginCard";
import { PluginConfigForm } from "./PluginConfigForm";

function ordered(plugins: Plugin[]): Plugin[] {
  return [...plugins].sort((a, b) => a.kind.localeCompare(b.kind) || Number(b.enabled) - Number(a.enabled) || a.name.localeCompare(b.name));
}

export default function PluginsPage() {
  const t = useT(adminMessages);
  const plugins = useLoad(listPlugins);
  const [configuring, setConfiguring] = useState<Plugin | null>(null);
  return (
    <section data-testid="admin-plugins">
      <h1>{t("plugins")}</h1>
      <ErrorBox error={plugins.error} />
      {!plugins.data && !plugins.error && <p className="admin-empty">{t("loading")}</p>}
      <div className="admin-cards" data-testid="admin-table">
        {ordered(plugins.data ?? []).map((plugin) => (
          <PluginCard key={plugin.name} plugin={plugin} onConfigure={() => setConfiguring(plugin)} onChanged={plugins.reload} />
        ))}
      </div>
      {configuring && (
        <PluginConfigForm plugin={configuring} onClose={() => setConfiguring(null)}
                          onSaved={() => { setConfiguring(null); plugins.reload(); }} />
      )}
    </section>
  );
}
