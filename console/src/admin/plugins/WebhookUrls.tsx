// Where the provider posts: the URLs the hub answers (built from the tenant's public base
// URL), else `<origin>/hooks/<tenant>/<channel>`; each with a copy button.
import { useMe } from "../../auth/session";
import { useT } from "../../i18n";
import type { Plugin } from "../api/types";
import { CopyButton } from "../common/CopyButton";
import { adminMessages } from "../messages";

export function WebhookUrls({ plugin }: { plugin: Plugin }) {
  const t = useT(adminMessages);
  const me = useMe();
  const given = plugin.webhook_urls ?? [];
  const urls = given.length ? given : [`${window.location.origin}/hooks/${encodeURIComponent(me.tenant_id)}/${encodeURIComponent(plugin.name)}`];
  return (
    <div data-testid="plugin-webhook-urls">
      <strong>{t("webhookUrl")}</strong>
      {urls.map((url) => (
        <div key={url} className="admin-url">
          <code data-testid="plugin-webhook-url">{url}</code>
          <CopyButton value={url} testId="plugin-webhook-copy" />
        </div>
      ))}
    </div>
  );
}
