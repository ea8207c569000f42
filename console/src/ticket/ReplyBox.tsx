// The reply box: a reply or an internal note, "/code" inserts a template rendered for this
// ticket, and a client_message_id per draft so a double click or a retried request is one
// message at the hub.
import { useRef, useState, type KeyboardEvent } from "react";
import { api } from "../api/client";
import { useT } from "../i18n";
import { ticketMessages } from "./messages";
import { insertAt, matchTemplates, templateQueryAt, type TemplateQuery } from "./templateQuery";
import { TemplateSuggestions } from "./TemplateSuggestions";
import type { Message, Rendered } from "./types";
import { useTemplates } from "./useTemplates";

interface Props {
  ticketId: string;
  onSent: (message: Message) => void;
}

const MENU_ID = "template-suggestions";

export function ReplyBox({ ticketId, onSent }: Props) {
  const t = useT(ticketMessages);
  const templates = useTemplates();
  const box = useRef<HTMLTextAreaElement>(null);
  const sending = useRef(false);
  const [text, setText] = useState("");
  const [internal, setInternal] = useState(false);
  const [busy, setBusy] = useState(false);
  const [draftId, setDraftId] = useState(() => crypto.randomUUID());
  const [error, setError] = useState<string | null>(null);
  const [range, setRange] = useState<TemplateQuery | null>(null);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [inserting, setInserting] = useState(false);

  const open = range !== null && range.start !== dismissedAt;
  const matches = open ? matchTemplates(templates, range.query) : [];

  function track(value: string, caret: number) {
    const next = templateQueryAt(value, caret);
    setRange(next);
    if (next?.query !== range?.query) setActive(0);
    if (next === null) setDismissedAt(null);
  }

  async function choose(code: string) {
    if (!range) return;
    const at = range;
    setRange(null);
    setInserting(true);
    setError(null);
    try {
      const rendered = await api<Rendered>(`/v1/templates/${encodeURIComponent(code)}/render`, {
        method: "POST", body: { ticket_id: ticketId },
      });
      const next = insertAt(box.current?.value ?? text, at, rendered.text);
      setText(next.text);
      requestAnimationFrame(() => {
        box.current?.focus();
        box.current?.setSelectionRange(next.caret, next.caret);
      });
    } catch (failure) {
      setError(t("templateFailed", { message: (failure as Error).message }));
    } finally {
      setInserting(false);
    }
  }

  async function send() {
    if (sending.current || !text.trim()) return;
    sending.current = true;
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ message: Message }>(`/v1/tickets/${encodeURIComponent(ticketId)}/messages`, {
        method: "POST", body: { text, internal, client_message_id: draftId },
      });
      onSent(answer.message);
      setText("");
      setRange(null);
      setDraftId(crypto.randomUUID());
    } catch (failure) {
      setError(t("sendFailed", { message: (failure as Error).message }));
    } finally {
      sending.current = false;
      setBusy(false);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (open && matches.length > 0) {
      const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1 };
      const move = moves[event.key];
      if (move !== undefined) {
        setActive((index) => (index + move + matches.length) % matches.length);
        event.preventDefault();
        return;
      }
      const chosen = matches[active];
      if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && chosen) {
        event.preventDefault();
        void choose(chosen.code);
        return;
      }
    }
    if (open && event.key === "Escape") {
      setDismissedAt(range.start);
      event.preventDefault();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void send();
    }
  }

  const activeOption = open && matches[active] ? `${MENU_ID}-${matches[active].code}` : undefined;
  return (
    <form className={`reply-box${internal ? " internal" : ""}`} onSubmit={(event) => { event.preventDefault(); void send(); }}>
      <div className="reply-tabs">
        <label className="note-switch">
          <input type="checkbox" data-testid="note-toggle" checked={internal} onChange={(e) => setInternal(e.target.checked)} />
          {t("noteToggle")}
        </label>
        <span className="muted small">{t("templateHint")} · {t("sendHint")}</span>
      </div>
      <div className="reply-field">
        <label htmlFor="reply-text" className="sr-only">{internal ? t("internalNote") : t("reply")}</label>
        <textarea id="reply-text" ref={box} data-testid="reply-box" rows={4} value={text}
                  placeholder={internal ? t("notePlaceholder") : t("replyPlaceholder")}
                  role="combobox" aria-autocomplete="list" aria-expanded={open && matches.length > 0}
                  aria-controls={MENU_ID} aria-activedescendant={activeOption}
                  onChange={(e) => { setText(e.target.value); track(e.target.value, e.target.selectionStart); }}
                  onSelect={(e) => track(e.currentTarget.value, e.currentTarget.selectionStart)}
                  onBlur={() => setRange(null)} onKeyDown={onKeyDown} />
        {open && (
          <TemplateSuggestions id={MENU_ID} query={range.query} templates={matches} active={active}
                               onChoose={(code) => void choose(code)} onHover={setActive} />
        )}
      </div>
      <div className="reply-actions">
        {inserting && <span className="muted" role="status">{t("inserting")}</span>}
        {error && <span className="error" role="alert">{error}</span>}
        <span className="spacer" />
        <button type="submit" className="primary" data-testid="send-reply" disabled={busy || !text.trim()}>
          {busy ? t("sending") : internal ? t("addNote") : t("send")}
        </button>
      </div>
    </form>
  );
}
