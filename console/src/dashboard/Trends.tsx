// Trend lines of /v1/reports/timeseries (per day in the tenant's zone) and the volume by
// hour of day of the summary.
import { useMemo } from "react";
import { useLocale, useT, type Locale } from "../i18n";
import { formatDuration } from "../i18n/time";
import type { Metric, Timeseries } from "./api";
import { EChart, type ChartOption } from "./EChart";
import { formatDay, formatRate, formatScore } from "./format";
import { dashboardMessages } from "./messages";

export const COLORS = ["#2456d3", "#1f8a4c", "#b7791f", "#8e44ad", "#c0362c", "#16a3b8"];

type Format = (value: number) => string;

interface LineSpec {
  metric: Metric;
  name: string;
  area?: boolean;
}

function lineChart(data: Timeseries, lines: LineSpec[], locale: Locale, format: Format,
                   yAxis: { min?: number; max?: number; minInterval?: number } = {}, extra: ChartOption["series"] = []): ChartOption {
  const series = lines.map((line, index) => ({
    type: "line" as const,
    id: line.metric,
    name: line.name,
    data: data.series[line.metric] ?? data.dates.map(() => null),
    connectNulls: false,
    showSymbol: data.dates.length <= 31,
    smooth: false,
    color: COLORS[index % COLORS.length],
    areaStyle: line.area ? { opacity: 0.08 } : undefined,
  }));
  return {
    grid: { left: 56, right: 16, top: 32, bottom: 28 },
    legend: { top: 0, left: "center", itemWidth: 14, itemHeight: 8 },
    tooltip: {
      trigger: "axis",
      valueFormatter: (value) => (typeof value === "number" ? format(value) : "—"),
    },
    xAxis: { type: "category", data: data.dates.map((day) => formatDay(day, locale, false)), boundaryGap: false },
    yAxis: { type: "value", ...yAxis, axisLabel: { formatter: (value: number) => format(value) } },
    series: [...series, ...(Array.isArray(extra) ? extra : [extra])],
  };
}

function hasValues(data: Timeseries, metrics: Metric[]): boolean {
  return metrics.some((metric) => (data.series[metric] ?? []).some((value) => value !== null && value !== 0));
}

function Panel({ title, empty, children }: { title: string; empty: boolean; children: React.ReactNode }) {
  const t = useT(dashboardMessages);
  return (
    <section className="dash-panel">
      <h3>{title}</h3>
      <div className="dash-chart-box">
        {children}
        {empty && <div className="dash-chart-empty"><span>{t("noData")}</span><small>{t("noDataHint")}</small></div>}
      </div>
    </section>
  );
}

export function Trends({ data, firstResponseTarget }: { data: Timeseries; firstResponseTarget: number | null }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const options = useMemo(() => {
    const count: Format = (value) => String(Math.round(value));
    const duration: Format = (value) => formatDuration(value, locale);
    const rate: Format = (value) => formatRate(value, locale);
    const score: Format = (value) => formatScore(value, locale);
    const target = firstResponseTarget === null ? [] : [{
      type: "line" as const, id: "target", name: t("target", { target: duration(firstResponseTarget) }),
      data: data.dates.map(() => firstResponseTarget), showSymbol: false, color: "#c0362c",
      lineStyle: { type: "dashed" as const, width: 1 },
    }];
    return {
      volume: lineChart(data, [
        { metric: "created", name: t("series_created"), area: true },
        { metric: "solved", name: t("series_solved") },
        { metric: "backlog", name: t("series_backlog") },
      ], locale, count, { minInterval: 1 }),
      firstResponse: lineChart(data, [{ metric: "first_response_median", name: t("series_first_response_median") }],
        locale, duration, {}, target),
      rates: lineChart(data, [
        { metric: "fcr_rate", name: t("series_fcr_rate") },
        { metric: "sla_attainment", name: t("series_sla_attainment") },
      ], locale, rate, { min: 0, max: 1 }),
      csat: lineChart(data, [{ metric: "csat_average", name: t("series_csat_average"), area: true }], locale, score, { min: 1, max: 5 }),
    };
  }, [data, firstResponseTarget, locale, t]);

  return (
    <div className="dash-trends" data-testid="trends">
      <Panel title={t("trendVolume")} empty={!hasValues(data, ["created", "solved", "backlog"])}>
        <EChart testId="chart-trend-volume" option={options.volume} label={t("trendVolume")} />
      </Panel>
      <Panel title={t("trendFirstResponse")} empty={!hasValues(data, ["first_response_median"])}>
        <EChart testId="chart-trend-first-response" option={options.firstResponse} label={t("trendFirstResponse")} />
      </Panel>
      <Panel title={t("trendRates")} empty={!hasValues(data, ["fcr_rate", "sla_attainment"])}>
        <EChart testId="chart-trend-rates" option={options.rates} label={t("trendRates")} />
      </Panel>
      <Panel title={t("trendCsat")} empty={!hasValues(data, ["csat_average"])}>
        <EChart testId="chart-trend-csat" option={options.csat} label={t("trendCsat")} />
      </Panel>
    </div>
  );
}

export function VolumeByHour({ byHour, zone }: { byHour: number[]; zone: string }) {
  const t = useT(dashboardMessages);
  const option = useMemo<ChartOption>(() => ({
    grid: { left: 40, right: 12, top: 12, bottom: 24 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: byHour.map((_, hour) => String(hour).padStart(2, "0")) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{
      type: "bar", id: "by_hour", name: t("kpi_volume"), data: byHour, color: COLORS[0], barCategoryGap: "20%",
      itemStyle: { borderRadius: [3, 3, 0, 0] },
    }],
  }), [byHour, t]);
  return (
    <Panel title={t("byHour", { zone })} empty={!byHour.some((count) => count > 0)}>
      <EChart testId="chart-volume-hour" option={option} height={200} label={t("byHour", { zone })} />
    </Panel>
  );
}
