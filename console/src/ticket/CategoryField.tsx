import { useState, type FormEvent } from "react";
import { useT } from "../i18n";
import { ticketMessages } from "./messages";

/** The ticket's category: saved on Enter or when the field is left changed. */
export function CategoryField({ value, disabled, onSave }: {
  value: string | null | undefined; disabled: boolean; onSave: (value: string | null) => void;
}) {
  const t = useT(ticketMessages);
  const [draft, setDraft] = useState(value ?? "");
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setDraft(value ?? "");
  }
  const save = () => {
    const next = draft.trim();
    if (next !== (value ?? "")) onSave(next || null);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save();
  };
  return (
    <form className="category-field" onSubmit={submit}>
      <input id="ticket-category" data-testid="ticket-category" value={draft} disabled={disabled} maxLength={64}
             placeholder={t("categoryPlaceholder")} onChange={(e) => setDraft(e.target.value)} onBlur={save} />
    </form>
  );
}
