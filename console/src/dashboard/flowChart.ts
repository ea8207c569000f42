// The flow page's Sankey: the five stages in order, each in its own column, the slowest
// (where tickets wait longest) in red; links back to an earlier stage (a reopen) kept apart,
// since a Sankey has no cycles.
import type { Stage } from "../api/types";
import type { Locale } from "../i18n";
import { formatDuration } from "../i18n/time";
import { STAGES, type Flow, type FlowLink, type FlowStage } from "./api";
import type { ChartOption } from "./EChart";
import { formatCount } from "./format";
import type { DashboardKey } from "./messages";

export const STAGE_COLORS: Record<Stage, string> = {
  accept: "#5b8def", triage: "#7c6fe0", handle: "#16a3b8", resolve: "#1f8a4c", follow_up: "#b7791f",
};
export const SLOWEST_COLOR = "#c0362c";

export function isStage(value: unknown): value is Stage {
  return typeof value === "string" && (STAGES as readonly string[]).includes(value);
}

/** A Sankey has no cycles: links back to an earlier stage (reopens) are listed apart. */
export function splitLinks(links: FlowLink[]): { forward: FlowLink[]; back: FlowLink[] } {
  const order = (stage: Stage) => STAGES.indexOf(stage);
  const real = links.filter((link) => link.value > 0 && isStage(link.source) && isStage(link.target));
  return {
    forward: real.filter((link) => order(link.source) < order(link.target)),
    back: real.filter((link) => order(link.source) > order(link.target)),
  };
}

/** The hub's slowest stage, when tickets spent time in it at all (a 0 s median waits nowhere). */
export function slowestOf(flow: Flow | null): Stage | null {
  const stage = flow?.stages.find((each) => each.stage === flow.slowest);
  return stage && (stage.median_seconds ?? 0) > 0 ? stage.stage : null;
}

function nodeSize(stage: FlowStage | undefined): number {
  return stage ? Math.max(stage.entered, stage.left, stage.current) : 0;
}

/** Nothing entered, left or waits anywhere and nothing moved: the empty picture. */
export function isEmpty(flow: Flow | null, forward: FlowLink[]): boolean {
  return forward.length === 0 && (flow?.stages ?? []).every((stage) => nodeSize(stage) === 0);
}

type Words = (key: DashboardKey) => string;
type StageMap = Map<Stage, FlowStage>;

interface Hovered {
  dataType?: string;
  name?: string;
  data?: FlowLink;
}

/** A link: from → to and how many; a stage: its counts and times. */
function tooltip(item: Hovered, byStage: StageMap, t: Words, locale: Locale): string {
  if (item.dataType === "edge" && item.data) {
    return `${t(`stage_${item.data.source}`)} → ${t(`stage_${item.data.target}`)}: ${formatCount(item.data.value, locale)}`;
  }
  const stage = isStage(item.name) ? byStage.get(item.name) : undefined;
  if (!stage) return "";
  return [`<b>${t(`stage_${stage.stage}`)}</b>`,
    `${t("col_entered")}: ${formatCount(stage.entered, locale)} · ${t("col_left")}: ${formatCount(stage.left, locale)}`,
    `${t("col_current")}: ${formatCount(stage.current, locale)}`,
    `${t("median")}: ${formatDuration(stage.median_seconds, locale)} · ${t("p90")}: ${formatDuration(stage.p90_seconds, locale)}`,
  ].join("<br/>");
}

/** A node's label: the stage's name, then its median time and how many tickets are in it now. */
function label(name: string, byStage: StageMap, t: Words, locale: Locale): string {
  const stage = isStage(name) ? byStage.get(name) : undefined;
  if (!stage) return name;
  const figures = `${formatDuration(stage.median_seconds, locale)} · ${t("col_current")} ${formatCount(stage.current, locale)}`;
  return `{name|${t(`stage_${stage.stage}`)}}\n{time|${figures}}`;
}

/** Each stage in its own column, tall as its tickets even with no link yet; with no
 * tickets at all the five stages stand as an even grey skeleton. */
function nodes(flow: Flow | null, byStage: StageMap, empty: boolean) {
  const slowest = slowestOf(flow);
  return STAGES.map((stage, depth) => ({
    name: stage,
    depth,
    value: empty ? 1 : nodeSize(byStage.get(stage)),
    itemStyle: {
      color: empty ? "#d0d5dd" : slowest === stage ? SLOWEST_COLOR : STAGE_COLORS[stage],
      borderColor: slowest === stage ? "#7a1d16" : undefined,
      borderWidth: slowest === stage ? 2 : 0,
    },
  }));
}

/** The Sankey of the five stages (links back to an earlier stage left out: see splitLinks). */
export function flowOption(flow: Flow | null, forward: FlowLink[], t: Words, locale: Locale): ChartOption {
  const byStage: StageMap = new Map(flow?.stages.map((stage) => [stage.stage, stage]) ?? []);
  return {
    tooltip: {
      trigger: "item",
      formatter: (params) => tooltip((Array.isArray(params) ? params[0] : params) as Hovered, byStage, t, locale),
    },
    series: [{
      type: "sankey",
      id: "flow",
      left: 16, right: 130, top: 16, bottom: 16, nodeWidth: 18, nodeGap: 14,
      nodeAlign: "left",
      layoutIterations: 0,
      draggable: false,
      emphasis: { focus: "adjacency" },
      lineStyle: { color: "gradient", opacity: 0.35, curveness: 0.5 },
      label: {
        color: "#1d2330",
        formatter: (params: { name: string }) => label(params.name, byStage, t, locale),
        rich: { name: { fontWeight: "bold", fontSize: 13, lineHeight: 18 }, time: { color: "#667085", fontSize: 11, lineHeight: 15 } },
      },
      data: nodes(flow, byStage, isEmpty(flow, forward)),
      links: forward.map((link) => ({ source: link.source, target: link.target, value: link.value })),
    }],
  };
}
