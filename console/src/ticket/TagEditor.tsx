import { useState, type FormEvent } from "react";
import { useT } from "../i18n";
import { ticketMessages } from "./messages";

interface Props {
  tags: string[];
  disabled: boolean;
  onAdd: (tag: string) => void;
  onRemove: (tag: string) => void;
}

/** The ticket's tags as chips: × removes one, the field adds (lower-cased, as the hub stores them). */
export function TagEditor({ tags, disabled, onAdd, onRemove }: Props) {
  const t = useT(ticketMessages);
  const [draft, setDraft] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const tag = draft.trim().toLowerCase();
    if (tag && !tags.includes(tag)) onAdd(tag);
    setDraft("");
  };
  return (
    <div className="tag-editor" data-testid="ticket-tags">
      <ul className="tag-list">
        {tags.map((tag) => (
          <li key={tag} className="tag-chip">
            {tag}
            <button type="button" className="chip-remove" disabled={disabled} aria-label={t("removeTag", { tag })}
                    onClick={() => onRemove(tag)}>×</button>
          </li>
        ))}
      </ul>
      <form onSubmit={submit}>
        <label htmlFor="add-tag" className="sr-only">{t("addTag")}</label>
        <input id="add-tag" data-testid="add-tag" value={draft} disabled={disabled} placeholder={t("addTag")} maxLength={64}
               pattern="[A-Za-z0-9_:./\-]+" onChange={(e) => setDraft(e.target.value)} />
      </form>
    </div>
  );
}
