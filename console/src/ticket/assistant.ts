// The assistant's decisions as timeline lines: history entries with the events
// `assistant.answered`, `assistant.unsure`, `assistant.handed_off`, `assistant.feedback`
// (detail: intent, confidence, threshold, article_id, reason, message_id, helpful), and its
// replies (author `assistant:<plugin>`). Events it does not know yet show by their name.
import type { TicketKey } from "./messages";
import type { HistoryEntry, Message } from "./types";

type Translate = (key: TicketKey, vars?: Record<string, string | number>) => string;

export const ASSISTANT_PREFIX = "assistant.";

export function isAssistantEntry(entry: HistoryEntry): boolean {
  return entry.actor.kind === "assistant" || (entry.event ?? "").startsWith(ASSISTANT_PREFIX);
}

export function isAssistantMessage(message: Pick<Message, "author_id" | "direction">): boolean {
  return message.direction === "outbound" && (message.author_id ?? "").startsWith("assistant:");
}

/** The hub's reasons (chalicelib/assistant/responder.py: "asked for a person", "two unhelpful answers
 *  in a row", "below the threshold", "no answer for it", "assistant unavailable", or a code) → words
 *  in the agent's language; anything else is shown as the hub wrote it. */
const REASONS: [RegExp, TicketKey][] = [
  [/visitor|button|widget/, "as_reason_visitor"],
  [/person|human|agent|request|转人工|人工/, "as_reason_person"],
  [/unhelpful|strike|not_helpful/, "as_reason_unhelpful"],
  [/no_model|untrained|not_trained/, "as_reason_no_model"],
  [/no_answer|no_article|unanswered/, "as_reason_no_answer"],
  [/unavailable|failed|error/, "as_reason_unavailable"],
  [/unsure|threshold|confidence/, "as_reason_unsure"],
];

function reasonText(reason: unknown, t: Translate): string {
  const text = typeof reason === "string" ? reason.trim() : "";
  if (!text) return "—";
  const code = text.toLowerCase().replace(/[\s-]+/g, "_");
  if (code.length > 40) return text;  // a sentence, not a code
  const found = REASONS.find(([pattern]) => pattern.test(code));
  return found ? t(found[1]) : text;
}

function share(value: unknown): string | null {
  const number = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) return null;
  return `${Math.round(number * 100)}%`;
}

/** "intent account.password, 93%" (unsure: "…, 41%, below 80%"). */
function facts(detail: Record<string, unknown>, t: Translate, below: boolean): string {
  const parts: string[] = [];
  if (typeof detail.intent === "string" && detail.intent) parts.push(t("as_intent", { intent: detail.intent }));
  const confidence = share(detail.confidence);
  const threshold = share(detail.threshold);
  if (confidence && below && threshold) parts.push(t("as_below", { confidence, threshold }));
  else if (confidence) parts.push(confidence);
  return parts.join(t("as_sep"));
}

/** The headline of an assistant decision, or null for an entry that is not one. */
export function describeAssistant(entry: HistoryEntry, t: Translate): string | null {
  const event = entry.event ?? "";
  if (!event.startsWith(ASSISTANT_PREFIX)) return null;
  const detail = entry.detail ?? {};
  switch (event) {
    case "assistant.answered": {
      const article = typeof detail.article_id === "string" && detail.article_id ? detail.article_id : null;
      const known = facts(detail, t, false);
      return article ? t("as_answered", { article, facts: known || "—" }) : t("as_answered_plain", { facts: known || "—" });
    }
    case "assistant.unsure": return t("as_unsure", { facts: facts(detail, t, true) || "—" });
    case "assistant.handed_off": {
      const reason = reasonText(detail.reason ?? entry.reason, t);
      const known = facts(detail, t, false);
      return known ? t("as_handed_off", { reason, facts: known }) : t("as_handed_off_plain", { reason });
    }
    case "assistant.feedback":
      return detail.helpful === true ? t("as_feedback_yes")
        : detail.helpful === false ? t("as_feedback_no") : t("as_other", { event: event.slice(ASSISTANT_PREFIX.length) });
    default: return t("as_other", { event: event.slice(ASSISTANT_PREFIX.length) });
  }
}
