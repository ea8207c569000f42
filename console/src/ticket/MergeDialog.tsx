import { useState } from "react";
import { api } from "../api/client";
import type { TicketView } from "../api/types";
import { useT } from "../i18n";
import { ticketMessages } from "./messages";
import { ConfirmDialog } from "./parts/ConfirmDialog";

interface Props {
  ticket: TicketView;
  candidates: TicketView[];
  onMerged: (into: string) => void;
  onClose: () => void;
}

interface MergeResult {
  complete: boolean;
  merged: string;
}

/** Merge this ticket into another (the customer's open tickets offered first), after a confirmation. */
export function MergeDialog({ ticket, candidates, onMerged, onClose }: Props) {
  const t = useT(ticketMessages);
  const [into, setInto] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const open = candidates.filter((item) => item.id !== ticket.id && !["closed", "merged"].includes(item.status));

  async function merge() {
    const target = into.trim();
    if (!target) return;
    setBusy(true);
    setError(null);
    try {
      // a call moves at most 1,000 items: ask again until the hub says it is complete
      for (let round = 0; round < 20; round += 1) {
        const result = await api<MergeResult>(`/v1/tickets/${encodeURIComponent(ticket.id)}/merge`, {
          method: "POST", body: { into: target, reason },
        });
        if (result.complete) break;
      }
      onMerged(target);
    } catch (failure) {
      setError(t("mergeFailed", { message: (failure as Error).message }));
      setBusy(false);
    }
  }

  return (
    <ConfirmDialog title={t("mergeTitle")} confirmLabel={t("mergeConfirm")} cancelLabel={t("cancel")} busy={busy || !into.trim()}
                   danger onConfirm={() => void merge()} onCancel={onClose}>
      <p className="muted small">{t("mergeExplain")}</p>
      <label htmlFor="merge-target">{t("mergeInto")}</label>
      <input id="merge-target" data-testid="merge-target" list="merge-candidates" value={into}
             placeholder={t("mergeTargetPlaceholder")} onChange={(e) => setInto(e.target.value)} />
      <datalist id="merge-candidates">
        {open.map((item) => <option key={item.id} value={item.id}>{item.subject || item.id}</option>)}
      </datalist>
      {open.length > 0 && (
        <fieldset className="merge-candidates">
          <legend className="small muted">{t("mergeSuggestions")}</legend>
          {open.slice(0, 5).map((item) => (
            <label key={item.id} className="radio">
              <input type="radio" name="merge-into" value={item.id} checked={into === item.id} onChange={() => setInto(item.id)} />
              {item.subject || item.id} <span className="muted small">{item.id}</span>
            </label>
          ))}
        </fieldset>
      )}
      <label htmlFor="merge-reason">{t("mergeReason")}</label>
      <input id="merge-reason" value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
      {error && <p className="error" role="alert">{error}</p>}
    </ConfirmDialog>
  );
}
