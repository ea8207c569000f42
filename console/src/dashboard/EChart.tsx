// One small wrapper around Apache ECharts, tree-shaken: only the charts and components
// the dashboard and the flow page draw are bundled. It follows its box's size and is
// disposed with the component.
import { useEffect, useRef } from "react";
import * as echarts from "echarts/core";
import { BarChart, LineChart, SankeyChart } from "echarts/charts";
import type { BarSeriesOption, LineSeriesOption, SankeySeriesOption } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, SankeyChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = echarts.ComposeOption<
  BarSeriesOption | LineSeriesOption | SankeySeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption
>;

/** What a click on a chart element tells: its data (a Sankey node: `{name}`) and kind. */
export interface ChartClick {
  dataType?: string;
  name?: string;
  data?: unknown;
  seriesType?: string;
}

interface Props {
  option: ChartOption;
  testId: string;
  height?: number;
  label?: string;
  onClick?: (event: ChartClick) => void;
}

export function EChart({ option, testId, height = 240, label, onClick }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const clicked = useRef(onClick);

  useEffect(() => {
    clicked.current = onClick;
  }, [onClick]);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const instance = echarts.init(element, undefined, { renderer: "canvas" });
    chart.current = instance;
    instance.on("click", (params) => clicked.current?.(params as ChartClick));
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  // Merged, series matched by id: a refresh with new figures moves the chart instead of
  // replaying its opening animation every minute.
  useEffect(() => {
    chart.current?.setOption(option, { replaceMerge: ["series"] });
  }, [option]);

  return (
    <div className="dash-chart" data-testid={testId} ref={box} style={{ height }}
         role="img" aria-label={label} />
  );
}
