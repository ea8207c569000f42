// One audit record, with its before and after on demand.
import type { AuditRecord } from "../api/types";
import { diff, show } from "./diff";

interface RowProps {
  record: AuditRecord;
  when: string;
  who: string;
  open: boolean;
  onToggle: () => void;
  detailsLabel: string;
  beforeLabel: string;
  afterLabel: string;
}

export function AuditRow({ record, when, who: actor, open, onToggle, detailsLabel, beforeLabel, afterLabel }: RowProps) {
  return (
    <>
      <tr data-testid="audit-row" data-action={record.action}>
        <td>{when}</td>
        <td><code>{record.action}</code></td>
        <td>{record.target}</td>
        <td>{actor}</td>
        <td>{record.actor.source_ip || record.actor.via}</td>
        <td><button type="button" className="link" onClick={onToggle}>{detailsLabel}</button></td>
      </tr>
      {open && (
        <tr>
          <td colSpan={6}>
            {record.before && record.after && (
              <ul data-testid="audit-changes">
                {diff(record.before, record.after).map((change) => (
                  <li key={change.path}><code>{change.path}</code>: {show(change.before)} → {show(change.after)}</li>
                ))}
              </ul>
            )}
            <div className="admin-result">
              <div><strong>{beforeLabel}</strong><pre className="admin-pre">{JSON.stringify(record.before, null, 2)}</pre></div>
              <div><strong>{afterLabel}</strong><pre className="admin-pre">{JSON.stringify(record.after, null, 2)}</pre></div>
            </div>
          </td>
        </tr>
      )}
    </>
  );
}
