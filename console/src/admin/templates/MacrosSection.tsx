// Macros: several actions at once (ticket changes, a template reply, a note).
import { useState } from "react";
import { useT } from "../../i18n";
import { deleteMacro, listMacros } from "../api/templates";
import type { Macro, ReplyTemplate } from "../api/types";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import { useLoad } from "../common/useLoad";
import { adminMessages } from "../messages";
import { describeStep } from "../rules/steps";
import { MacroForm } from "./MacroForm";

export function MacrosSection({ templates }: { templates: ReplyTemplate[] }) {
  const t = useT(adminMessages);
  const macros = useLoad(listMacros);
  const [editing, setEditing] = useState<Macro | "new" | null>(null);
  return (
    <section data-testid="admin-macros">
      <h2>{t("macros")}</h2>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="macro-new" onClick={() => setEditing("new")}>{t("newMacro")}</button>
      </div>
      <ErrorBox error={macros.error} />
      <table className="admin-table" data-testid="admin-table-macros">
        <thead>
          <tr><th>{t("name")}</th><th>{t("macroPatch")}</th><th>{t("replyTemplate")}</th><th>{t("note")}</th><th>{t("actions")}</th></tr>
        </thead>
        <tbody>
          {(macros.data ?? []).map((macro) => (
            <tr key={macro.id} data-testid="macro-row" data-macro-id={macro.id}>
              <td>{macro.name}<br /><small>{macro.description}</small></td>
              <td><small>{describeStep({ type: "patch", ...(macro.actions.patch ?? {}) }) || t("none")}</small></td>
              <td>{macro.actions.reply_template ? <code>/{macro.actions.reply_template}</code> : t("none")}</td>
              <td><small>{macro.actions.note || t("none")}</small></td>
              <td className="actions">
                <button type="button" data-testid="macro-edit" onClick={() => setEditing(macro)}>{t("edit")}</button>
                <ConfirmButton label={t("delete")} testId="macro-delete" question={t("confirmDelete", { name: macro.name })}
                               onConfirm={() => deleteMacro(macro)} onDone={macros.reload} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {macros.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}
      {editing && (
        <MacroForm macro={editing === "new" ? null : editing} templates={templates} onClose={() => setEditing(null)}
                   onSaved={() => { setEditing(null); macros.reload(); }} />
      )}
    </section>
  );
}
