// The service dashboard: KPI tiles against the seeds' targets, trends, volume by hour,
// per agent/group/channel tables and the weekly top issues, for a period and one filter.
// Read again every minute and whenever the tab comes back into view.
import { useMemo } from "react";
import { useLocale, useT } from "../i18n";
import { METRICS, reportPaths, type Summary, type Timeseries } from "./api";
import { Breakdown } from "./Breakdown";
import { EmptyNote, ExportButton, isForbidden, ReportError } from "./common";
import { Filters } from "./Filters";
import { useRefreshTick, useReport } from "./hooks";
import { KpiTiles } from "./KpiTiles";
import { dashboardMessages } from "./messages";
import { useDashboardQuery } from "./query";
import { TopIssues } from "./TopIssues";
import { Trends, VolumeByHour } from "./Trends";
import "./dashboard.css";

const METRIC_LIST = METRICS.join(",");

function noData(summary: Summary): boolean {
  const { volume, backlog, csat } = summary.kpis;
  return volume.created === 0 && backlog.open === 0 && csat.responses === 0 && summary.kpis.first_response.count === 0;
}

export default function DashboardPage() {
  const t = useT(dashboardMessages);
  const { timeZone } = useLocale();
  const query = useDashboardQuery();
  const [tick, refresh] = useRefreshTick();
  const summary = useReport<Summary>(reportPaths.summary, query.report, tick);
  const seriesQuery = useMemo(() => ({ ...query.report, metrics: METRIC_LIST }), [query.report]);
  const series = useReport<Timeseries>(reportPaths.timeseries, seriesQuery, tick);
  const forbidden = isForbidden(summary.error);
  const zone = summary.data?.period.time_zone ?? timeZone;
  const period = `${query.report.from}-${query.report.to}`;

  return (
    <main className="page dash" data-testid="dashboard">
      <header className="dash-title">
        <h1>{t("dashboardTitle")}</h1>
        {!forbidden && <ExportButton path={reportPaths.summary} query={query.report} filename={`summary-${period}.csv`} />}
      </header>
      {!forbidden && <Filters query={query} updatedAt={summary.at} loading={summary.loading} onRefresh={refresh} />}
      {summary.error !== null && <ReportError error={summary.error} onRetry={refresh} />}
      {forbidden ? null : (
        <>
          {summary.data === null && summary.error === null && <div className="loading">{t("loading")}</div>}
          {summary.data && noData(summary.data) && <EmptyNote title={t("noData")} hint={t("noDataHint")} />}
          {summary.data && <KpiTiles kpis={summary.data.kpis} />}
          {summary.data && <VolumeByHour byHour={summary.data.kpis.volume.by_hour} zone={zone} />}
          <section className="dash-section">
            <header className="dash-section-head">
              <h2>{t("trends")}</h2>
              <ExportButton path={reportPaths.timeseries} query={seriesQuery} filename={`timeseries-${period}.csv`} />
            </header>
            {series.error !== null && <ReportError error={series.error} onRetry={refresh} />}
            {series.data && <Trends data={series.data} firstResponseTarget={summary.data?.kpis.first_response.target_seconds ?? null} />}
          </section>
          <Breakdown query={query.report} tick={tick} />
          <TopIssues filters={query.report} tick={tick} />
        </>
      )}
    </main>
  );
}
