// The tenant's API keys: list, create (the secret shown once), revoke.
import { useState } from "react";
import { useT, } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { listKeys, revokeKey } from "../api/keys";
import type { KeyCreated } from "../api/types";
import { ConfirmButton } from "../common/ConfirmButton";
import { CopyButton } from "../common/CopyButton";
import { ErrorBox } from "../common/ErrorBox";
import { Modal } from "../common/Modal";
import { useLoad } from "../common/useLoad";
import { adminMessages } from "../messages";
import { KeyForm } from "./KeyForm";

export default function KeysPage() {
  const t = useT(adminMessages);
  const time = useTimeFormat();
  const keys = useLoad(listKeys);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<KeyCreated | null>(null);

  return (
    <section data-testid="admin-keys">
      <h1>{t("keys")}</h1>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="key-new" onClick={() => setCreating(true)}>{t("newKey")}</button>
      </div>
      <ErrorBox error={keys.error} />
      <table className="admin-table" data-testid="admin-table">
        <thead>
          <tr>
            <th>{t("name")}</th><th>{t("prefix")}</th><th>{t("scopes")}</th><th>{t("created")}</th>
            <th>{t("createdBy")}</th><th>{t("expires")}</th><th>{t("status")}</th><th>{t("actions")}</th>
          </tr>
        </thead>
        <tbody>
          {(keys.data ?? []).map((key) => (
            <tr key={key.key_id} data-testid="key-row" data-key-id={key.key_id} className={key.revoked_at ? "muted" : undefined}>
              <td>{key.name || t("none")}</td>
              <td><code>{key.prefix}_…</code></td>
              <td>{key.scopes.join(", ")}</td>
              <td>{time(key.created_at)}</td>
              <td>{key.created_by || t("none")}</td>
              <td>{key.expires_at ? time(key.expires_at) : t("neverExpires")}</td>
              <td>
                {key.revoked_at
                  ? <span className="admin-badge off">{t("revoked")} {time(key.revoked_at)}</span>
                  : <span className="admin-badge on">{t("status_active")}</span>}
              </td>
              <td className="actions">
                {!key.revoked_at && (
                  <ConfirmButton label={t("revoke")} testId="key-revoke"
                                 question={t("confirmRevoke", { name: key.name || key.prefix })}
                                 onConfirm={() => revokeKey(key.key_id)} onDone={keys.reload} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {keys.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}
      {creating && (
        <KeyForm onClose={() => setCreating(false)}
                 onCreated={(key) => { setCreating(false); setCreated(key); keys.reload(); }} />
      )}
      {created && (
        <Modal title={t("theKey")} onClose={() => setCreated(null)} testId="key-created-dialog">
          <p className="admin-warning" role="alert">{t("keyShownOnce")}</p>
          <div className="admin-secret">
            <code data-testid="key-secret">{created.key}</code>
            <CopyButton value={created.key} testId="key-copy" />
          </div>
          <div className="admin-actions">
            <button type="button" className="primary" onClick={() => setCreated(null)}>{t("close")}</button>
          </div>
        </Modal>
      )}
    </section>
  );
}
