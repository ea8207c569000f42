// The web chat widget's embed code: one <script> tag served by the hub with the tenant's id,
// to paste into a site's pages (the origins allowed to embed it are in the widget's config),
// and the tenant's public help centre the widget links to.
import { useMe } from "../../auth/session";
import { useT } from "../../i18n";
import type { Plugin } from "../api/types";
import { CopyButton } from "../common/CopyButton";
import { adminMessages } from "../messages";

/** The hub's public origin: the one the hub names in its URLs (the tenant's public base URL), else this page's. */
function hubOrigin(plugin: Plugin): string {
  for (const given of plugin.webhook_urls ?? []) {
    try {
      return new URL(given).origin;
    } catch {
      // not an absolute URL: try the next
    }
  }
  return window.location.origin;
}

export function WidgetSnippet({ plugin }: { plugin: Plugin }) {
  const t = useT(adminMessages);
  const me = useMe();
  const origin = hubOrigin(plugin);
  const snippet = `<script src="${origin}/widget.js" data-tenant="${me.tenant_id}" async></script>`;
  const help = `${origin}/help/${encodeURIComponent(me.tenant_id)}`;
  return (
    <div data-testid="widget-embed">
      <strong id="widget-embed-title">{t("widgetEmbed")}</strong>
      <p className="hint"><small>{t("widgetEmbedHint")}</small></p>
      <div className="admin-url">
        <code data-testid="widget-snippet" aria-labelledby="widget-embed-title">{snippet}</code>
        <CopyButton value={snippet} testId="widget-snippet-copy" />
      </div>
      <div className="admin-url">
        <span className="hint"><small>{t("helpCentre")}</small></span>
        <a href={help} target="_blank" rel="noreferrer" data-testid="help-centre-link"><code>{help}</code></a>
      </div>
    </div>
  );
}
