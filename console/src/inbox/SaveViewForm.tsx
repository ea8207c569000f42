import { useState, type FormEvent } from "react";
import { useT } from "../i18n";
import { filtersKey, type Filters } from "./filters";
import { inboxMessages } from "./messages";

/** "Save as view": a name for the current filters, kept in the agent's preferences. */
export function SaveViewForm({ filters, onSave }: { filters: Filters; onSave: (name: string) => Promise<void> }) {
  const t = useT(inboxMessages);
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const empty = filtersKey(filters) === "";

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await onSave(name.trim().slice(0, 60));
      setOpen(false);
      setName("");
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  }

  if (!open) {
    return (
      <button type="button" data-testid="save-view" disabled={empty} title={empty ? t("savedNothing") : undefined}
              onClick={() => setOpen(true)}>
        {t("saveView")}
      </button>
    );
  }
  return (
    <form className="save-view" onSubmit={(event) => void submit(event)}>
      <label className="sr-only" htmlFor="view-name">{t("viewName")}</label>
      <input id="view-name" data-testid="view-name" autoFocus maxLength={60} placeholder={t("viewName")} value={name}
             onChange={(e) => setName(e.target.value)} />
      <button type="submit" className="primary" disabled={busy || !name.trim()}>{t("save")}</button>
      <button type="button" onClick={() => setOpen(false)}>{t("cancel")}</button>
      {error && <span className="error" role="alert">{error}</span>}
    </form>
  );
}
