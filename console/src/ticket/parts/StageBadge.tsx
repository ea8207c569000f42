import { useLabels } from "../useLabels";

export function StageBadge({ stage }: { stage: string | null | undefined }) {
  const labels = useLabels();
  if (!stage) return <span className="stage-badge stage-none">—</span>;
  return <span className={`stage-badge stage-${stage}`} data-stage={stage}>{labels.stage(stage)}</span>;
}
