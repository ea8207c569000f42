// The tenant's assistant model (GET /v1/knowledge/model): its state, the knowledge version it
// was trained on against the current one, the threshold and the plugin's figures; re-read
// every few seconds while a training is queued or running. "Retrain" queues one.
import { useEffect, useState } from "react";
import { useT } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { ErrorBox } from "../common/ErrorBox";
import type { Load } from "../common/useLoad";
import { useAction } from "../common/useAction";
import { train } from "./api";
import { knowledgeMessages, type KnowledgeKey } from "./messages";
import type { ModelState, ModelStatus } from "./types";

const POLL_MS = 3000;
const BUSY: ModelState[] = ["queued", "training"];
const TONE: Record<ModelState, string> = { none: "", queued: "warn", training: "warn", ready: "on", failed: "off" };

const SHARES = /accuracy|coverage|precision|recall|f1|rate|share/;

/** Shares (cv_accuracy 0.93) as "93.0%", other figures (examples, features, temperature) as numbers. */
function figure(name: string, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const share = value >= 0 && value <= 1 && SHARES.test(name);
  return share ? `${(value * 100).toFixed(1)}%` : Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function percent(value: number | null): string {
  return value === null ? "—" : `${Math.round(value * 1000) / 10}%`;
}

export function ModelCard({ model }: { model: Load<ModelStatus> }) {
  const t = useT(knowledgeMessages);
  const time = useTimeFormat();
  const status = model.data;
  const busy = status !== undefined && BUSY.includes(status.state);
  const { reload } = model;
  useEffect(() => {
    if (!busy) return undefined;
    const timer = window.setInterval(() => {
      if (!document.hidden) reload();
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [busy, reload]);
  const [queued, setQueued] = useState<number | null>(null);  // the knowledge version a Retrain queued
  const retrain = useAction(async () => {
    setQueued((await train()).knowledge_version);
    reload();
  });

  return (
    <article className="admin-card knowledge-model" data-testid="knowledge-model" data-state={status?.state ?? "loading"}
             aria-busy={busy} aria-labelledby="knowledge-model-title">
      <header>
        <h2 id="knowledge-model-title">{t("model")}</h2>
        {status && (
          <span className={`admin-badge ${TONE[status.state]}`} data-testid="model-state" role="status">
            {t(`state_${status.state}` as KnowledgeKey)}
          </span>
        )}
        <span className="spacer" />
        <button type="button" className="admin-small" onClick={reload}>{t("reload")}</button>
        <button type="button" className="primary" data-testid="model-retrain" disabled={retrain.busy || busy || !status?.assistant}
                onClick={() => void retrain.run()}>
          {retrain.busy ? t("working") : t("retrain")}
        </button>
      </header>
      <ErrorBox error={model.error ?? retrain.error} />
      {!status && !model.error && <p className="admin-empty">{t("loading")}</p>}
      {status && <ModelFacts status={status} time={time} />}
      {busy && <small className="hint">{t("refreshing")}</small>}
      {queued !== null && !busy && (
        <small className="admin-ok" role="status" data-testid="model-retrain-queued">{t("retrainQueued", { version: queued })}</small>
      )}
    </article>
  );
}

function ModelFacts({ status, time }: { status: ModelStatus; time: (iso: string | null) => string }) {
  const t = useT(knowledgeMessages);
  const current = status.model_version !== null && status.model_version >= status.knowledge_version;
  const figures = Object.entries(status.figures ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const threshold = status.effective_threshold !== null && status.threshold !== null && status.effective_threshold !== status.threshold
    ? t("thresholdTrained", { value: percent(status.effective_threshold), trained: percent(status.threshold) })
    : percent(status.effective_threshold ?? status.threshold);
  return (
    <>
      <dl className="knowledge-facts">
        <div><dt>{t("assistant")}</dt><dd data-testid="model-assistant">{status.assistant ?? t("noAssistant")}</dd></div>
        <div><dt>{t("knowledgeVersion")}</dt><dd data-testid="model-knowledge-version">{status.knowledge_version}</dd></div>
        <div>
          <dt>{t("modelVersion")}</dt>
          <dd data-testid="model-version">
            {status.model_version ?? "—"}
            {status.model_version !== null && <small className="hint"> ({t(current ? "upToDate" : "behind")})</small>}
          </dd>
        </div>
        <div><dt>{t("trainedAt")}</dt><dd>{time(status.trained_at)}</dd></div>
        <div><dt>{t("threshold")}</dt><dd data-testid="model-threshold">{threshold}</dd></div>
        <div><dt>{t("labels")}</dt><dd>{status.labels}</dd></div>
      </dl>
      {figures.length > 0 && (
        <dl className="knowledge-facts" data-testid="model-figures" aria-label={t("figures")}>
          {figures.map(([name, value]) => (
            <div key={name}><dt><code>{name}</code></dt><dd data-figure={name}>{figure(name, value)}</dd></div>
          ))}
        </dl>
      )}
      {status.error && <p className="admin-error" data-testid="model-error"><strong>{t("error")}:</strong> {status.error}</p>}
    </>
  );
}
