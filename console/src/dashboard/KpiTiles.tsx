// The KPI tiles of /v1/reports/summary: each figure with the count behind it, its
// median and p90 where it is a time, and a judgement against the seeds' targets.
import { useLocale, useT } from "../i18n";
import { formatDuration } from "../i18n/time";
import type { CsatScore, DurationKpi, Kpis, SlaTarget } from "./api";
import { formatCount, formatRate, formatScore, judgeAbove, judgeBelow, judgeRateBelow, type Judgement } from "./format";
import { dashboardMessages } from "./messages";
import { BarList, StackedBar, Stat, Tile } from "./Tile";

/** The console's own goal for SLA attainment (the hub sets none): 95% of targets met. */
export const SLA_GOAL = 0.95;
const DURATIONS = ["first_response", "next_reply", "resolution", "handle"] as const;
const SLA_TARGETS = ["first_response", "next_response", "resolution"] as const;
const SCORES: CsatScore[] = ["1", "2", "3", "4", "5"];

function DurationTile({ name, kpi }: { name: (typeof DURATIONS)[number]; kpi: DurationKpi }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const d = (seconds: number | null) => formatDuration(seconds, locale);
  const target = kpi.target_seconds === null ? null : t("target", { target: `≤ ${d(kpi.target_seconds)}` });
  return (
    <Tile name={name} title={t(`kpi_${name}`)} raw={kpi.median_seconds}
          value={kpi.median_seconds === null ? null : d(kpi.median_seconds)}
          judgement={judgeBelow(kpi.median_seconds, kpi.target_seconds)} target={target}>
      <Stat label={t("median")} value={d(kpi.median_seconds)} />
      <Stat label={t("p90")} value={d(kpi.p90_seconds)} />
      <Stat label={t("average")} value={d(kpi.average_seconds)} />
      <Stat label={t("businessMedian")} value={d(kpi.business_median_seconds)} />
      {kpi.within_target !== null && <div className="kpi-note">{t("withinTarget", { rate: formatRate(kpi.within_target, locale) })}</div>}
      <div className="kpi-count">{t("basedOn", { count: formatCount(kpi.count, locale) })}</div>
    </Tile>
  );
}

function slaTotal(sla: Kpis["sla"]): { met: number; breached: number; attainment: number | null } {
  const targets: SlaTarget[] = SLA_TARGETS.map((name) => sla[name]);
  const met = targets.reduce((sum, each) => sum + each.met, 0);
  const breached = targets.reduce((sum, each) => sum + each.breached, 0);
  return { met, breached, attainment: met + breached === 0 ? null : met / (met + breached) };
}

function SlaTile({ sla }: { sla: Kpis["sla"] }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const total = slaTotal(sla);
  const rate = (value: number | null) => formatRate(value, locale);
  return (
    <Tile name="sla" title={t("kpi_sla")} raw={total.attainment} value={total.attainment === null ? null : rate(total.attainment)}
          judgement={judgeAbove(total.attainment, SLA_GOAL, 0.05)} target={t("goal", { target: `≥ ${rate(SLA_GOAL)}` })}>
      {SLA_TARGETS.map((name) => {
        const each = sla[name];
        const judged: Judgement = judgeAbove(each.attainment, SLA_GOAL, 0.05);
        return (
          <div key={name} className={`kpi-sla-row kpi-text-${judged}`} data-testid={`sla-${name}`} data-value={each.attainment ?? ""}>
            <span>{t(`sla_${name}`)}</span>
            <b>{rate(each.attainment)}</b>
            <small>{t("slaDetail", { met: each.met, breached: each.breached })}</small>
          </div>
        );
      })}
    </Tile>
  );
}

function CsatTile({ csat }: { csat: Kpis["csat"] }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const target = csat.target === null ? null : t("target", { target: `≥ ${formatScore(csat.target, locale)} ${t("outOf5")}` });
  return (
    <Tile name="csat" title={t("kpi_csat")} raw={csat.average} value={csat.average === null ? null : formatScore(csat.average, locale)}
          unit={t("outOf5")} judgement={judgeAbove(csat.average, csat.target, 0.3)} target={target}>
      <StackedBar testId="csat-distribution"
                  parts={SCORES.map((score) => ({ label: `${score}★`, count: csat.distribution[score] ?? 0, className: `score-${score}` }))} />
      <Stat label={t("responseRate")} value={formatRate(csat.response_rate, locale)} />
      <div className="kpi-count">{t("csatDetail", { responses: formatCount(csat.responses, locale), sent: formatCount(csat.sent, locale) })}</div>
    </Tile>
  );
}

function RateTiles({ kpis }: { kpis: Kpis }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const rate = (value: number | null) => formatRate(value, locale);
  const shown = (value: number | null) => (value === null ? null : rate(value));
  const n = (value: number) => formatCount(value, locale);
  const { fcr, reopen_rate: reopen, closure_rate: closure, automation_rate: automation } = kpis;
  return (
    <>
      <Tile name="fcr" title={t("kpi_fcr")} raw={fcr.rate} value={shown(fcr.rate)} judgement={judgeAbove(fcr.rate, fcr.target, 0.05)}
            target={fcr.target === null ? null : t("target", { target: `≥ ${rate(fcr.target)}` })}>
        <div className="kpi-count">{t("fcrDetail", { count: n(fcr.count), eligible: n(fcr.eligible) })}</div>
      </Tile>
      <Tile name="closure_rate" title={t("kpi_closure_rate")} raw={closure.rate} value={shown(closure.rate)}
            judgement={judgeAbove(closure.rate, closure.target, 0.03)}
            target={closure.target === null ? null : t("target", { target: `≥ ${rate(closure.target)}` })}>
        <div className="kpi-count">{t("closureDetail", { closed: n(closure.closed), created: n(closure.created) })}</div>
      </Tile>
      <Tile name="reopen_rate" title={t("kpi_reopen_rate")} raw={reopen.rate} value={shown(reopen.rate)}
            judgement={judgeRateBelow(reopen.rate, 0.05, 0.1)}>
        <div className="kpi-count">{t("reopenDetail", { reopened: n(reopen.reopened), solved: n(reopen.solved) })}</div>
      </Tile>
      <Tile name="automation_rate" title={t("kpi_automation_rate")} raw={automation.rate} value={shown(automation.rate)}>
        <div className="kpi-count">{t("automationDetail", { automated: n(automation.automated), solved: n(automation.solved) })}</div>
      </Tile>
    </>
  );
}

function BacklogTile({ backlog }: { backlog: Kpis["backlog"] }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  return (
    <Tile name="backlog" title={t("kpi_backlog")} raw={backlog.open} value={formatCount(backlog.open, locale)} unit={t("open")}>
      <StackedBar testId="backlog-ages" parts={backlog.age_buckets.map((bucket, index) => ({
        label: bucket.label, count: bucket.count, className: `age-${index}`,
      }))} />
      <div className="kpi-count">{t("oldest", { age: formatDuration(backlog.oldest_seconds, locale) })}</div>
    </Tile>
  );
}

function VolumeTile({ volume }: { volume: Kpis["volume"] }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const channels = Object.entries(volume.by_channel).sort(([, a], [, b]) => b - a);
  return (
    <Tile name="volume" title={t("kpi_volume")} raw={volume.created} value={formatCount(volume.created, locale)} unit={t("created")}>
      <div className="kpi-subtitle">{t("byChannel")}</div>
      <BarList testId="volume-by-channel" items={channels.map(([label, count]) => ({ label, count }))} />
    </Tile>
  );
}

export function KpiTiles({ kpis }: { kpis: Kpis }) {
  return (
    <div className="kpi-grid" data-testid="kpi-tiles">
      {DURATIONS.map((name) => <DurationTile key={name} name={name} kpi={kpis[name]} />)}
      <RateTiles kpis={kpis} />
      <CsatTile csat={kpis.csat} />
      <SlaTile sla={kpis.sla} />
      <BacklogTile backlog={kpis.backlog} />
      <VolumeTile volume={kpis.volume} />
    </div>
  );
}
