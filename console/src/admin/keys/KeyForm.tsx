// Issue an API key: a name, its scopes and an optional expiry (a date in the tenant's zone
// is sent as the end of that day, UTC, which is good enough for an expiry).
import { useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { createKey } from "../api/keys";
import type { KeyCreated, Scope } from "../api/types";
import { FormFooter } from "../common/FormFooter";
import { Field } from "../common/Field";
import { Modal } from "../common/Modal";
import { MultiCheck } from "../common/MultiCheck";
import { useAction } from "../common/useAction";
import { adminMessages, type AdminKey } from "../messages";

const scopes: Scope[] = ["read-only", "reply", "agent", "tenant-admin"];

export function KeyForm({ onClose, onCreated }: { onClose: () => void; onCreated: (key: KeyCreated) => void }) {
  const t = useT(adminMessages);
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<Scope[]>(["read-only"]);
  const [expires, setExpires] = useState("");
  const [tried, setTried] = useState(false);
  const today = new Date().toISOString().slice(0, 10);
  const problem = !chosen.length ? t("needScope") : expires && expires <= today ? t("tooSmall", { min: today }) : null;
  const save = useAction(async () => {
    onCreated(await createKey(name.trim(), chosen, expires ? `${expires}T23:59:59Z` : null));
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (!problem) void save.run();
  }

  return (
    <Modal title={t("newKey")} onClose={onClose} testId="key-form">
      <form className="admin-form" onSubmit={submit} noValidate>
        <Field label={t("name")}>
          <input value={name} maxLength={100} data-testid="key-name" autoFocus onChange={(event) => setName(event.target.value)} />
        </Field>
        <Field label={t("scopes")} problem={tried && !chosen.length ? t("needScope") : null}>
          <MultiCheck value={chosen} onChange={setChosen} testId="key-scopes"
                      options={scopes.map((scope) => ({ value: scope, label: t(`scope_${scope.replace("-", "_")}` as AdminKey) }))} />
        </Field>
        <Field label={t("expires")} problem={tried && chosen.length ? problem : null}>
          <input type="date" value={expires} min={today} data-testid="key-expires" onChange={(event) => setExpires(event.target.value)} />
        </Field>
        <FormFooter error={save.error} busy={save.busy} onClose={onClose} testId="key-save" submit="create" />
      </form>
    </Modal>
  );
}
