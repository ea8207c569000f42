// Per agent, group or channel (/v1/reports/breakdown): a table sortable by any column.
import { useState } from "react";
import { useLocale, useT, type Locale } from "../i18n";
import { formatDuration } from "../i18n/time";
import { reportPaths, type Breakdown as BreakdownAnswer, type BreakdownBy, type BreakdownRow, type ReportQuery } from "./api";
import { ExportButton, ReportError } from "./common";
import { formatCount, formatRate, formatScore } from "./format";
import { useReport } from "./hooks";
import { dashboardMessages, type DashboardKey } from "./messages";

type Column = keyof Omit<BreakdownRow, "key">;

const COLUMNS: { key: Column; label: DashboardKey; show: (row: BreakdownRow, locale: Locale) => string }[] = [
  { key: "name", label: "col_name", show: (row) => row.name || row.key },
  { key: "created", label: "col_created", show: (row, locale) => formatCount(row.created, locale) },
  { key: "solved", label: "col_solved", show: (row, locale) => formatCount(row.solved, locale) },
  { key: "first_response_median_seconds", label: "col_first_response",
    show: (row, locale) => formatDuration(row.first_response_median_seconds, locale) },
  { key: "handle_median_seconds", label: "col_handle", show: (row, locale) => formatDuration(row.handle_median_seconds, locale) },
  { key: "fcr_rate", label: "col_fcr", show: (row, locale) => formatRate(row.fcr_rate, locale) },
  { key: "csat_average", label: "col_csat", show: (row, locale) => formatScore(row.csat_average, locale) },
  { key: "csat_responses", label: "col_csat_responses", show: (row, locale) => formatCount(row.csat_responses, locale) },
  { key: "sla_attainment", label: "col_sla", show: (row, locale) => formatRate(row.sla_attainment, locale) },
];

const BYS: BreakdownBy[] = ["agent", "group", "channel"];

interface Sort {
  column: Column;
  descending: boolean;
}

/** Nulls last whichever the direction; names by the agent's language's collation. */
function sortRows(rows: BreakdownRow[], sort: Sort, locale: Locale): BreakdownRow[] {
  const sign = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[sort.column];
    const y = b[sort.column];
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    if (typeof x === "string" || typeof y === "string") return sign * String(x).localeCompare(String(y), locale);
    return sign * (x - y);
  });
}

export function Breakdown({ query, tick }: { query: ReportQuery; tick: number }) {
  const t = useT(dashboardMessages);
  const { locale } = useLocale();
  const [by, setBy] = useState<BreakdownBy>("agent");
  const [sort, setSort] = useState<Sort>({ column: "created", descending: true });
  // the hub keeps each dimension's figures apart, never crossed: a breakdown is the whole tenant's
  const full = { from: query.from, to: query.to, by };
  const filtered = Boolean(query.channel || query.group || query.agent);
  const report = useReport<BreakdownAnswer>(reportPaths.breakdown, full, tick);
  const rows = sortRows(report.data?.by === by ? report.data.rows : [], sort, locale);

  function sortBy(column: Column) {
    setSort((last) => ({ column, descending: last.column === column ? !last.descending : column !== "name" }));
  }

  return (
    <section className="dash-panel dash-breakdown" data-testid="breakdown">
      <header className="dash-panel-head">
        <h3>{t("breakdown")}</h3>
        <div className="dash-tabs" role="tablist">
          {BYS.map((each) => (
            <button key={each} type="button" role="tab" aria-selected={by === each} data-testid={`breakdown-by-${each}`}
                    className={by === each ? "active" : ""} onClick={() => setBy(each)}>{t(`by_${each}`)}</button>
          ))}
        </div>
        <ExportButton path={reportPaths.breakdown} query={full} filename={`breakdown-${by}-${query.from}-${query.to}.csv`} />
      </header>
      {filtered && <p className="muted dash-note" data-testid="breakdown-whole">{t("breakdown_whole")}</p>}
      {report.error !== null ? <ReportError error={report.error} /> : (
        <div className="dash-table-wrap">
          <table className="dash-table" data-testid="breakdown-table" data-by={by}>
            <thead>
              <tr>
                {COLUMNS.map((column) => (
                  <th key={column.key} className={column.key === "name" ? "" : "num"}
                      aria-sort={sort.column === column.key ? (sort.descending ? "descending" : "ascending") : "none"}>
                    <button type="button" className="sort" data-testid={`sort-${column.key}`} onClick={() => sortBy(column.key)}>
                      {t(column.label)}{sort.column === column.key ? (sort.descending ? " ▼" : " ▲") : ""}
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.key} data-testid="breakdown-row" data-key={row.key}>
                  {COLUMNS.map((column) => (
                    <td key={column.key} className={column.key === "name" ? "" : "num"} data-value={row[column.key] ?? ""}>
                      {column.show(row, locale)}
                    </td>
                  ))}
                </tr>
              ))}
              {rows.length === 0 && (
                <tr><td colSpan={COLUMNS.length} className="dash-table-empty">{report.loading ? t("loading") : t("noRows")}</td></tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
