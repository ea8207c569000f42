// The saved template filled in for a real ticket (POST /v1/templates/{code}/render);
// a missing variable comes back as 422 missing_variables, listed.
import { useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { renderTemplate } from "../api/templates";
import type { Rendered } from "../api/types";
import { ErrorBox } from "../common/ErrorBox";
import { Field } from "../common/Field";
import { useAction } from "../common/useAction";
import { adminMessages } from "../messages";

export function TemplatePreview({ code, languages }: { code: string; languages: string[] }) {
  const t = useT(adminMessages);
  const [ticketId, setTicketId] = useState("");
  const [language, setLanguage] = useState("");
  const [rendered, setRendered] = useState<Rendered | null>(null);
  const render = useAction(async () => {
    setRendered(null);
    setRendered(await renderTemplate(code, ticketId.trim(), language || undefined));
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (ticketId.trim()) void render.run();
  }

  return (
    <section data-testid="template-preview">
      <h3>{t("preview")}</h3>
      <small className="hint">{t("previewHint")}</small>
      <form className="admin-row" onSubmit={submit}>
        <Field label={t("previewTicket")}>
          <input value={ticketId} placeholder="tkt_…" data-testid="preview-ticket" onChange={(event) => setTicketId(event.target.value)} />
        </Field>
        <Field label={t("language")}>
          <select value={language} onChange={(event) => setLanguage(event.target.value)}>
            <option value="">{t("any")}</option>
            {languages.map((lang) => <option key={lang} value={lang}>{lang}</option>)}
          </select>
        </Field>
        <button type="submit" disabled={render.busy || !ticketId.trim()} data-testid="preview-render">
          {render.busy ? t("working") : t("renderIt")}
        </button>
      </form>
      <ErrorBox error={render.error} />
      {rendered && (
        <pre className="admin-pre" data-testid="preview-text" data-language={rendered.language}>
          [{rendered.language}] {rendered.text}
        </pre>
      )}
    </section>
  );
}
