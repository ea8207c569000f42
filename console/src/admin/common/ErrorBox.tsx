// The hub's {"error": {"code", "message", "fields"?}} as the admin reads it: the code,
// the message, and each field at fault on its own line.
import { ApiError } from "../../api/client";
import { useT } from "../../i18n";
import { adminMessages } from "../messages";

interface FieldError {
  field?: string;
  message?: string;
}

function fieldsOf(error: unknown): FieldError[] {
  const fields = (error as { fields?: unknown } | null)?.fields;
  return Array.isArray(fields) ? (fields as FieldError[]) : [];
}

/** "refused: a: msg; b: msg" → the lead and one line per field, when the hub lists no `fields`. */
function split(message: string): [string, string[]] {
  const at = message.indexOf(": ");
  if (at < 0 || !message.includes("; ")) return [message, []];
  return [message.slice(0, at), message.slice(at + 2).split("; ")];
}

export function ErrorBox({ error }: { error: unknown }) {
  const t = useT(adminMessages);
  if (!error) return null;
  if (!(error instanceof ApiError)) {
    return <div className="admin-error" role="alert" data-testid="admin-error">{String(error)}</div>;
  }
  const fields = fieldsOf(error);
  const [lead, parts] = fields.length ? [error.message, []] : split(error.message);
  return (
    <div className="admin-error" role="alert" data-testid="admin-error" data-code={error.code}>
      <strong>{t(error.status === 409 ? "conflict" : "refused")}</strong> <code>{error.code}</code> {lead}
      {(fields.length > 0 || parts.length > 0) && (
        <ul>
          {fields.map((field, index) => (
            <li key={index}><code>{field.field}</code> {field.message}</li>
          ))}
          {parts.map((part, index) => <li key={`p${index}`}>{part}</li>)}
        </ul>
      )}
    </div>
  );
}
