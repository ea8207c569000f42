// The weekly top-issues review (/v1/reports/top-issues): the week's most frequent
// categories, intents and tags, each with the week before and the change (▲ more, ▼ fewer).
import { useState } from "react";
import { useLocale, useT } from "../i18n";
import { reportPaths, type IssueCount, type ReportQuery, type TopIssues as TopIssuesAnswer } from "./api";
import { ExportButton, ReportError } from "./common";
import { formatCount, isoWeek, shiftWeek, todayIn } from "./format";
import { useReport } from "./hooks";
import { dashboardMessages, type DashboardKey } from "./messages";

const LISTS: { key: "categories" | "intents" | "tags"; label: DashboardKey }[] = [
  { key: "categories", label: "categories" }, { key: "intents", label: "intents" }, { key: "tags", label: "tags" },
];

function Change({ item }: { item: IssueCount }) {
  const t = useT(dashboardMessages);
  if (item.previous === 0 && item.count > 0) return <span className="change change-new">{t("newIssue")}</span>;
  if (item.change > 0) return <span className="change change-up" data-value={item.change}>▲ {item.change}</span>;
  if (item.change < 0) return <span className="change change-down" data-value={item.change}>▼ {Math.abs(item.change)}</span>;
  return <span className="change change-flat" data-value={0}>–</span>;
}

function IssueTable({ title, items, name }: { title: string; items: IssueCount[]; name: string }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const most = Math.max(1, ...items.map((item) => item.count));
  return (
    <div className="issues-list" data-testid={`top-${name}`}>
      <h4>{title}</h4>
      {items.length === 0 ? <p className="muted">{t("noIssues")}</p> : (
        <table className="dash-table compact">
          <thead>
            <tr><th /><th className="num">{t("col_count")}</th><th className="num">{t("col_previous")}</th><th className="num">{t("col_change")}</th></tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.name} data-testid="issue-row" data-name={item.name}>
                <td>
                  <span className="issue-name">{item.name}</span>
                  <span className="issue-bar" style={{ width: `${(item.count / most) * 100}%` }} />
                </td>
                <td className="num" data-value={item.count}>{formatCount(item.count, locale)}</td>
                <td className="num" data-value={item.previous}>{formatCount(item.previous, locale)}</td>
                <td className="num"><Change item={item} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function TopIssues({ filters, tick }: { filters: ReportQuery; tick: number }) {
  const t = useT(dashboardMessages);
  const { timeZone } = useLocale();
  const current = isoWeek(todayIn(timeZone));
  const [week, setWeek] = useState<string>(current);
  const query = { ...filters, from: undefined, to: undefined, week, limit: 10 };
  const report = useReport<TopIssuesAnswer>(reportPaths.topIssues, query, tick);
  const data = report.data?.week === week ? report.data : null;

  return (
    <section className="dash-panel dash-issues" data-testid="top-issues">
      <header className="dash-panel-head">
        <h3>{t("topIssues")}</h3>
        <div className="dash-week">
          <button type="button" aria-label={t("previousWeek")} onClick={() => setWeek(shiftWeek(week, -1))}>◀</button>
          <input type="week" aria-label={t("week")} data-testid="issues-week" value={week} max={current}
                 onChange={(event) => { if (/^\d{4}-W\d{2}$/.test(event.target.value)) setWeek(event.target.value); }} />
          <button type="button" aria-label={t("nextWeek")} disabled={week >= current} onClick={() => setWeek(shiftWeek(week, 1))}>▶</button>
        </div>
        {data && <span className="muted">{t("weekVs", { week: data.week, previous: data.previous_week })}</span>}
        <span className="spacer" />
        <ExportButton path={reportPaths.topIssues} query={query} filename={`top-issues-${week}.csv`} />
      </header>
      {report.error !== null ? <ReportError error={report.error} /> : (
        <div className="issues-grid">
          {LISTS.map((list) => (
            <IssueTable key={list.key} name={list.key} title={t(list.label)} items={data ? data[list.key] : []} />
          ))}
        </div>
      )}
    </section>
  );
}
