// A KPI tile (its figure, the target and a green/amber/red judgement) and the small
// CSS bars tiles draw distributions with.
import type { ReactNode } from "react";
import { useT } from "../i18n";
import type { Judgement } from "./format";
import { dashboardMessages, type DashboardKey } from "./messages";

interface TileProps {
  name: string;
  title: string;
  /** the figure as shown; null: no data yet */
  value: string | null;
  /** the raw figure (data-value), for tests and tooltips */
  raw: number | null;
  unit?: string;
  judgement?: Judgement;
  target?: string | null;
  children?: ReactNode;
  wide?: boolean;
}

const JUDGEMENT_WORDS: Record<Judgement, DashboardKey> = {
  good: "statusGood", warn: "statusWarn", bad: "statusBad", none: "statusNone",
};

export function Tile({ name, title, value, raw, unit, judgement, target, children, wide }: TileProps) {
  const t = useT(dashboardMessages);
  const judged = judgement ?? "none";
  const empty = value === null;
  return (
    <section className={`kpi kpi-${judged}${wide ? " kpi-wide" : ""}${empty ? " kpi-empty" : ""}`}
             data-testid={`kpi-${name}`} data-status={judged}>
      <header className="kpi-head">
        <h3>{title}</h3>
        {judgement && judgement !== "none" && <span className={`kpi-badge kpi-badge-${judged}`}>{t(JUDGEMENT_WORDS[judged])}</span>}
      </header>
      <div className="kpi-figure">
        <span className="kpi-value" data-testid="kpi-value" data-value={raw ?? ""}>{empty ? "—" : value}</span>
        {!empty && unit && <span className="kpi-unit">{unit}</span>}
      </div>
      {target !== undefined && <div className="kpi-target">{target ?? t("noTarget")}</div>}
      {empty && <div className="kpi-nodata">{t("noData")}</div>}
      <div className="kpi-body">{children}</div>
    </section>
  );
}

export interface BarPart {
  label: string;
  count: number;
  className?: string;
}

/** One horizontal bar split into parts, with a legend; an empty bar when all are 0. */
export function StackedBar({ parts, testId }: { parts: BarPart[]; testId?: string }) {
  const total = parts.reduce((sum, part) => sum + part.count, 0);
  return (
    <div className="stacked" data-testid={testId}>
      <div className={`stacked-bar${total === 0 ? " stacked-empty" : ""}`}>
        {total > 0 && parts.map((part, index) => part.count > 0 && (
          <span key={part.label} className={part.className ?? `stacked-part-${index}`}
                style={{ width: `${(part.count / total) * 100}%` }} title={`${part.label}: ${part.count}`} />
        ))}
      </div>
      <ul className="stacked-legend">
        {parts.map((part, index) => (
          <li key={part.label}><i className={part.className ?? `stacked-part-${index}`} />{part.label} <b>{part.count}</b></li>
        ))}
      </ul>
    </div>
  );
}

/** Rows of label, bar and count (the volume by channel). */
export function BarList({ items, testId }: { items: BarPart[]; testId?: string }) {
  const most = Math.max(1, ...items.map((item) => item.count));
  return (
    <ul className="barlist" data-testid={testId}>
      {items.map((item) => (
        <li key={item.label}>
          <span className="barlist-label">{item.label}</span>
          <span className="barlist-track"><span style={{ width: `${(item.count / most) * 100}%` }} /></span>
          <b>{item.count}</b>
        </li>
      ))}
    </ul>
  );
}

/** A caption: label and value side by side. */
export function Stat({ label, value }: { label: string; value: string }) {
  return <div className="kpi-stat"><span>{label}</span><b>{value}</b></div>;
}
