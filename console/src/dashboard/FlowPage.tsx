// The five stages 受理 → 分诊 → 处理 → 反馈 → 回访 as a Sankey (/v1/reports/flow): how many
// tickets entered and left each stage in the period, how many are in it now, how long they
// stay, and the stage they wait longest in highlighted. A stage (node or row) opens the
// inbox listing its tickets.
import { useCallback, useMemo } from "react";
import { Link, useNavigate } from "react-router-dom";
import type { Stage } from "../api/types";
import { useLocale, useT } from "../i18n";
import { formatDuration } from "../i18n/time";
import { reportPaths, STAGES, type Flow, type FlowLink } from "./api";
import { ExportButton, isForbidden, ReportError } from "./common";
import { EChart, type ChartClick, type ChartOption } from "./EChart";
import { Filters } from "./Filters";
import { flowOption, isEmpty, isStage, SLOWEST_COLOR, slowestOf, splitLinks, STAGE_COLORS } from "./flowChart";
import { formatCount } from "./format";
import { useRefreshTick, useReport } from "./hooks";
import { dashboardMessages } from "./messages";
import { useDashboardQuery } from "./query";
import "./dashboard.css";

function useFlowOption(flow: Flow | null, forward: FlowLink[]): ChartOption {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  return useMemo(() => flowOption(flow, forward, t, locale), [flow, forward, locale, t]);
}

function StageTable({ flow, onOpen }: { flow: Flow; onOpen: (stage: Stage) => void }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const count = (value: number) => formatCount(value, locale);
  const slowest = slowestOf(flow);
  return (
    <table className="dash-table flow-table" data-testid="flow-table">
      <thead>
        <tr>
          <th>{t("col_stage")}</th>
          <th className="num">{t("col_entered")}</th><th className="num">{t("col_left")}</th>
          <th className="num">{t("col_current")}</th>
          <th className="num">{t("col_median")}</th><th className="num">{t("col_p90")}</th>
        </tr>
      </thead>
      <tbody>
        {STAGES.map((name) => flow.stages.find((stage) => stage.stage === name)).map((stage) => stage && (
          <tr key={stage.stage} data-testid={`flow-stage-${stage.stage}`} data-stage={stage.stage}
              className={`clickable${slowest === stage.stage ? " flow-slowest" : ""}`}
              onClick={() => onOpen(stage.stage)} title={t("openInbox")}>
            <td>
              <i className="flow-dot" style={{ background: slowest === stage.stage ? SLOWEST_COLOR : STAGE_COLORS[stage.stage] }} />
              <Link to={`/inbox?stage=${stage.stage}`} onClick={(event) => event.stopPropagation()}>
                {t(`stage_${stage.stage}`)}
              </Link>
              {slowest === stage.stage && <span className="kpi-badge kpi-badge-bad" data-testid="flow-slowest">{t("slowest")}</span>}
            </td>
            <td className="num" data-testid="entered" data-value={stage.entered}>{count(stage.entered)}</td>
            <td className="num" data-testid="left" data-value={stage.left}>{count(stage.left)}</td>
            <td className="num" data-testid="current" data-value={stage.current}>{count(stage.current)}</td>
            <td className="num" data-testid="median" data-value={stage.median_seconds ?? ""}>{formatDuration(stage.median_seconds, locale)}</td>
            <td className="num" data-testid="p90" data-value={stage.p90_seconds ?? ""}>{formatDuration(stage.p90_seconds, locale)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SlowestCallout({ flow }: { flow: Flow }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const slowest = slowestOf(flow);
  const stage = flow.stages.find((each) => each.stage === slowest);
  if (!stage) return <p className="flow-callout muted">{t("noSlowest")}</p>;
  return (
    <p className="flow-callout" data-testid="flow-callout">
      {t("slowestCallout", { stage: t(`stage_${stage.stage}`), median: formatDuration(stage.median_seconds, locale),
                            p90: formatDuration(stage.p90_seconds, locale) })}
    </p>
  );
}

export default function FlowPage() {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const navigate = useNavigate();
  const query = useDashboardQuery();
  const [tick, refresh] = useRefreshTick();
  const report = useReport<Flow>(reportPaths.flow, query.report, tick);
  const flow = report.data;
  const { forward, back } = useMemo(() => splitLinks(flow?.links ?? []), [flow]);
  const option = useFlowOption(flow, forward);
  const empty = isEmpty(flow, forward);
  const open = useCallback((stage: Stage) => navigate(`/inbox?stage=${stage}`), [navigate]);
  const onChartClick = useCallback((event: ChartClick) => {
    if (event.dataType === "node" && isStage(event.name)) open(event.name);
  }, [open]);
  const forbidden = isForbidden(report.error);

  return (
    <main className="page dash flow" data-testid="flow">
      <header className="dash-title">
        <h1>{t("flowTitle")}</h1>
        {!forbidden && <ExportButton path={reportPaths.flow} query={query.report} filename={`flow-${query.report.from}-${query.report.to}.csv`} />}
      </header>
      {!forbidden && <Filters query={query} updatedAt={report.at} loading={report.loading} onRefresh={refresh} />}
      {report.error !== null && <ReportError error={report.error} onRetry={refresh} />}
      {!forbidden && flow === null && report.error === null && <div className="loading">{t("loading")}</div>}
      {!forbidden && flow && (
        <>
          {!empty && <SlowestCallout flow={flow} />}
          <section className="dash-panel">
            {empty
              ? <p className="flow-empty" data-testid="empty-state"><b>{t("noData")}</b> · {t("flowEmpty")}</p>
              : <p className="muted">{t("flowHint")}</p>}
            <div className="dash-chart-box">
              <EChart testId="flow-chart" option={option} height={340} onClick={onChartClick} label={t("flowTitle")} />

            </div>
            {back.length > 0 && (
              <p className="flow-back" data-testid="flow-back">
                {t("returned")}:{" "}
                {back.map((link) => `${t(`stage_${link.source}`)} → ${t(`stage_${link.target}`)} ${formatCount(link.value, locale)}`).join(" · ")}
              </p>
            )}
          </section>
          <section className="dash-panel">
            <StageTable flow={flow} onOpen={open} />
          </section>
        </>
      )}
    </main>
  );
}
