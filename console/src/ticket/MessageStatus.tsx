import { useState } from "react";
import { api } from "../api/client";
import { useT } from "../i18n";
import { useTimeFormat } from "../i18n/time";
import { ticketMessages } from "./messages";
import type { Message } from "./types";
import { useLabels } from "./useLabels";

interface Props {
  message: Message;
  onRetried: (message: Message) => void;
}

/** An agent reply's way to the customer: queued → sent → delivered/read, or failed with why. */
export function MessageStatus({ message, onRetried }: Props) {
  const t = useT(ticketMessages);
  const labels = useLabels();
  const format = useTimeFormat();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const status = message.status;
  if (!status) return null;

  async function retry() {
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ message: Message }>(
        `/v1/tickets/${encodeURIComponent(message.ticket_id)}/messages/${encodeURIComponent(message.id)}/retry`,
        { method: "POST" },
      );
      onRetried(answer.message);
    } catch (failure) {
      setError(t("retryFailed", { message: (failure as Error).message }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="delivery">
      <span data-testid="message-status" data-status={status} className={`delivery-status delivery-${status}`}
            title={message.status_at ? format(message.status_at) : undefined}>
        {labels.delivery(status)}
      </span>
      {status === "failed" && (
        <>
          <span data-testid="message-error" className="delivery-error" role="alert">
            {message.error_reason || message.error_code || "—"}
            {message.error_code && message.error_reason && !message.error_reason.includes(message.error_code)
              ? ` (${message.error_code})` : ""}
          </span>
          <button type="button" data-testid="retry-message" className="small" disabled={busy} onClick={() => void retry()}>
            {busy ? t("retrying") : t("retryMessage")}
          </button>
        </>
      )}
      {error && <span className="delivery-error" role="alert">{error}</span>}
    </div>
  );
}
