// The dashboard's toolbar: the period (7/30/90 days or from/to) and one filter (a
// channel, a group or an agent), with the time of the last refresh.
import { useEffect, useState } from "react";
import { useLocale, useT } from "../i18n";
import { useTimeFormat } from "../i18n/time";
import { listAgents, listGroups, reportPaths, type Breakdown, type Named } from "./api";
import { useReport } from "./hooks";
import { formatDay } from "./format";
import { dashboardMessages } from "./messages";
import { DIMENSIONS, PRESETS, type DashboardQuery, type Dimension } from "./query";

interface Props {
  query: DashboardQuery;
  updatedAt: string | null;
  loading: boolean;
  onRefresh: () => void;
}

function useDirectory(): { agents: Named[]; groups: Named[] } {
  const [agents, setAgents] = useState<Named[]>([]);
  const [groups, setGroups] = useState<Named[]>([]);
  useEffect(() => {
    listAgents().then(setAgents, () => undefined);
    listGroups().then(setGroups, () => undefined);
  }, []);
  return { agents, groups };
}

function CustomPeriod({ query }: { query: DashboardQuery }) {
  const t = useT(dashboardMessages);
  const [from, setFrom] = useState(query.from);
  const [to, setTo] = useState(query.to);
  return (
    <form className="dash-custom" onSubmit={(event) => { event.preventDefault(); if (from && to) query.setCustom(from, to); }}>
      <label>{t("from")} <input type="date" value={from} max={to || undefined} onChange={(e) => setFrom(e.target.value)}
                                 data-testid="period-from" required /></label>
      <label>{t("to")} <input type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)}
                               data-testid="period-to" required /></label>
      <button type="submit">{t("apply")}</button>
    </form>
  );
}

/** The channels with tickets in the period (read only once the channel filter is chosen). */
function useChannels(query: DashboardQuery, wanted: boolean): string[] {
  const breakdown = useReport<Breakdown>(wanted ? reportPaths.breakdown : null, { by: "channel", from: query.from, to: query.to }, 0);
  return breakdown.data?.rows.map((row) => row.key) ?? [];
}

function FilterPicker({ query }: { query: DashboardQuery }) {
  const t = useT(dashboardMessages);
  const { agents, groups } = useDirectory();
  const [dimension, setDimension] = useState<Dimension | null>(query.dimension);
  const shown = dimension ?? query.dimension;
  const channels = useChannels(query, shown === "channel");
  const options: Named[] = shown === "agent" ? agents : shown === "group" ? groups
    : [...new Set([...channels, ...(query.dimension === "channel" ? [query.value] : [])])].sort().map((id) => ({ id, name: id }));

  function pickDimension(next: Dimension | null) {
    setDimension(next);
    if (next === null) query.setFilter(null, "");
  }

  return (
    <div className="dash-filter">
      <label>{t("filterBy")}{" "}
        <select data-testid="filter-dimension" value={shown ?? ""}
                onChange={(e) => pickDimension((e.target.value || null) as Dimension | null)}>
          <option value="">{t("everything")}</option>
          {DIMENSIONS.map((name) => <option key={name} value={name}>{t(name)}</option>)}
        </select>
      </label>
      {shown && (
        <select data-testid="filter-value" aria-label={t(shown)} value={query.dimension === shown ? query.value : ""}
                onChange={(e) => query.setFilter(shown, e.target.value)}>
          <option value="">{t("any")}</option>
          {options.map((item) => <option key={item.id} value={item.id}>{item.name}</option>)}
        </select>
      )}
    </div>
  );
}

export function Filters({ query, updatedAt, loading, onRefresh }: Props) {
  const t = useT(dashboardMessages);
  const { locale, timeZone } = useLocale();
  const time = useTimeFormat();
  const [customOpen, setCustomOpen] = useState(query.preset === null);
  return (
    <div className="dash-toolbar">
      <div className="dash-period" role="group" aria-label={t("period")}>
        {PRESETS.map((days) => (
          <button key={days} type="button" data-testid={`period-${days}`}
                  className={query.preset === days && !customOpen ? "active" : ""}
                  onClick={() => { setCustomOpen(false); query.setPreset(days); }}>
            {t(`days${days}`)}
          </button>
        ))}
        <button type="button" data-testid="period-custom" className={customOpen || query.preset === null ? "active" : ""}
                onClick={() => setCustomOpen(true)}>{t("custom")}</button>
      </div>
      {(customOpen || query.preset === null) && <CustomPeriod key={`${query.from}/${query.to}`} query={query} />}
      <span className="dash-period-shown" data-testid="period-shown">
        {t("periodShown", { from: formatDay(query.from, locale), to: formatDay(query.to, locale), zone: timeZone })}
      </span>
      <FilterPicker query={query} />
      <span className="spacer" />
      <span className="dash-updated">{loading ? t("loading") : updatedAt ? t("updated", { time: time(updatedAt, "time") }) : ""}</span>
      <button type="button" onClick={onRefresh} data-testid="dashboard-refresh">{t("refresh")}</button>
    </div>
  );
}
