// Reply templates (short codes agents type after "/", texts per language, variables) and macros.
import { useState } from "react";
import { useT } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { deleteTemplate, listTemplates } from "../api/templates";
import type { ReplyTemplate } from "../api/types";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import { useLoad } from "../common/useLoad";
import { adminMessages } from "../messages";
import { MacrosSection } from "./MacrosSection";
import { TemplateForm } from "./TemplateForm";
import { TemplatesCsv } from "./TemplatesCsv";

export default function TemplatesPage() {
  const t = useT(adminMessages);
  const time = useTimeFormat();
  const templates = useLoad(listTemplates);
  const [editing, setEditing] = useState<ReplyTemplate | "new" | null>(null);
  return (
    <section data-testid="admin-templates">
      <h1>{t("templates")}</h1>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="template-new" onClick={() => setEditing("new")}>{t("newTemplate")}</button>
      </div>
      <TemplatesCsv onImported={templates.reload} />
      <ErrorBox error={templates.error} />
      <table className="admin-table" data-testid="admin-table">
        <thead>
          <tr>
            <th>{t("code")}</th><th>{t("name")}</th><th>{t("language")}</th><th>{t("tags")}</th>
            <th>{t("updated")}</th><th>{t("actions")}</th>
          </tr>
        </thead>
        <tbody>
          {(templates.data ?? []).map((template) => (
            <tr key={template.code} data-testid="template-row" data-code={template.code}>
              <td><code>/{template.code}</code></td>
              <td>{template.title}</td>
              <td>{Object.keys(template.texts).join(", ")}</td>
              <td>{template.tags.join(", ") || t("none")}</td>
              <td>{time(template.updated_at)} <small>v{template.version}</small></td>
              <td className="actions">
                <button type="button" data-testid="template-edit" onClick={() => setEditing(template)}>{t("edit")}</button>
                <ConfirmButton label={t("delete")} testId="template-delete" question={t("confirmDelete", { name: template.code })}
                               onConfirm={() => deleteTemplate(template)} onDone={templates.reload} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {templates.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}
      {editing && (
        <TemplateForm template={editing === "new" ? null : editing} onClose={() => setEditing(null)}
                      onSaved={() => { setEditing(null); templates.reload(); }} />
      )}
      <MacrosSection templates={templates.data ?? []} />
    </section>
  );
}
