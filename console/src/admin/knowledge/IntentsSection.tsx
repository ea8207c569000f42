// The intents with how many labelled examples each has; create, edit the examples, delete.
import { useState } from "react";
import { useT } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import type { Load } from "../common/useLoad";
import { deleteIntent } from "./api";
import { IntentForm } from "./IntentForm";
import { knowledgeMessages } from "./messages";
import type { IntentSummary } from "./types";

export function IntentsSection({ intents, onChanged }: { intents: Load<IntentSummary[]>; onChanged: () => void }) {
  const t = useT(knowledgeMessages);
  const time = useTimeFormat();
  const [editing, setEditing] = useState<string | "" | null>(null);  // "": a new one
  return (
    <section data-testid="knowledge-intents" aria-labelledby="knowledge-intents-title">
      <h2 id="knowledge-intents-title">{t("intents")}</h2>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="intent-new" onClick={() => setEditing("")}>{t("newIntent")}</button>
      </div>
      <ErrorBox error={intents.error} />
      <table className="admin-table" data-testid="admin-table-intents">
        <thead>
          <tr><th>{t("intentName")}</th><th>{t("description")}</th><th>{t("exampleCount")}</th><th>{t("updated")}</th><th>{t("actions")}</th></tr>
        </thead>
        <tbody>
          {(intents.data ?? []).map((intent) => (
            <tr key={intent.name} data-testid="intent-row" data-intent={intent.name}>
              <td><code>{intent.name}</code></td>
              <td>{intent.description || "—"}</td>
              <td data-testid="intent-example-count">{intent.example_count}</td>
              <td>{time(intent.updated_at)}</td>
              <td className="actions">
                <button type="button" data-testid="intent-edit" onClick={() => setEditing(intent.name)}>{t("edit")}</button>
                <ConfirmButton label={t("delete")} testId="intent-delete" question={t("confirmDelete", { name: intent.name })}
                               onConfirm={() => deleteIntent(intent.name)} onDone={onChanged} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {intents.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}
      {editing !== null && (
        <IntentForm name={editing || null} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); onChanged(); }} />
      )}
    </section>
  );
}
