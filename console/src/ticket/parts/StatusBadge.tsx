import "./parts.css";
import { useLabels } from "../useLabels";

export function StatusBadge({ status }: { status: string }) {
  const labels = useLabels();
  return <span className={`status-badge status-${status}`} data-status={status}>{labels.status(status)}</span>;
}
