import { useLabels } from "../useLabels";

export function PriorityBadge({ priority }: { priority: string }) {
  const labels = useLabels();
  return (
    <span className={`priority-badge priority-${priority}`} data-priority={priority}>
      <span className="priority-dot" aria-hidden="true" />
      {labels.priority(priority)}
    </span>
  );
}
