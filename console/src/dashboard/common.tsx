// What the dashboard's parts share: the CSV export button and how a failed read shows.
import { useState } from "react";
import { ApiError } from "../api/client";
import { useT } from "../i18n";
import { downloadCsv, type Query } from "./api";
import { dashboardMessages } from "./messages";

export function isForbidden(error: unknown): boolean {
  return error instanceof ApiError && error.status === 403;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A 403 says who may read reports; anything else says what failed, with a retry. */
export function ReportError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT(dashboardMessages);
  const forbidden = isForbidden(error);
  return (
    <div className={`dash-error${forbidden ? " dash-forbidden" : ""}`} role="alert" data-testid="report-error"
         data-status={error instanceof ApiError ? error.status : ""}>
      <p>{forbidden ? t("forbidden") : t("failed", { message: messageOf(error) })}</p>
      {!forbidden && onRetry && <button type="button" onClick={onRetry}>{t("retry")}</button>}
    </div>
  );
}

/** The same report as CSV (`format=csv`), fetched with the token in a header. */
export function ExportButton({ path, query, filename }: { path: string; query: Query; filename: string }) {
  const t = useT(dashboardMessages);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  async function run() {
    setBusy(true);
    setFailure(null);
    try {
      await downloadCsv(path, query, filename);
    } catch (error) {
      setFailure(messageOf(error));
    } finally {
      setBusy(false);
    }
  }

  const name = path.split("/").pop() ?? "report";
  return (
    <span className="dash-export">
      <button type="button" className="dash-export-button" data-testid={`export-${name}`} disabled={busy}
              onClick={() => void run()} title={filename}>
        ⤓ {t("exportCsv")}
      </button>
      {failure && <span className="error" role="alert">{t("exportFailed", { message: failure })}</span>}
    </span>
  );
}

export function EmptyNote({ title, hint }: { title: string; hint?: string }) {
  return (
    <div className="dash-empty" data-testid="empty-state">
      <span className="dash-empty-icon" aria-hidden="true">◌</span>
      <strong>{title}</strong>
      {hint && <small>{hint}</small>}
    </div>
  );
}
