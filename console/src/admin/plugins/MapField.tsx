// A mapping field (e.g. stage_by_status): one row per allowed key when the schema names
// them, else free key=value lines.
import { useState } from "react";
import { useT } from "../../i18n";
import { adminMessages } from "../messages";
import type { SchemaNode } from "../api/types";

interface Props {
  name: string;
  node: SchemaNode;
  value: Record<string, string>;
  onChange: (value: Record<string, string>) => void;
}

function linesOf(value: Record<string, string>): string {
  return Object.entries(value).map(([key, item]) => `${key}=${item}`).join("\n");
}

export function MapField({ name, node, value, onChange }: Props) {
  const t = useT(adminMessages);
  const keys = node.propertyNames?.enum?.map(String);
  const values = typeof node.additionalProperties === "object" ? node.additionalProperties.enum?.map(String) : undefined;
  const [text, setText] = useState(() => linesOf(value));
  if (!keys) {
    return (
      <textarea value={text} rows={3} placeholder={`${t("mapKey")}=${t("mapValue")}`} data-testid={`config-${name}`}
                onChange={(event) => {
                  setText(event.target.value);
                  const next: Record<string, string> = {};
                  for (const line of event.target.value.split("\n")) {
                    const at = line.indexOf("=");
                    if (at > 0) next[line.slice(0, at).trim()] = line.slice(at + 1).trim();
                  }
                  onChange(next);
                }} />
    );
  }
  return (
    <table className="admin-table" data-testid={`config-${name}`}>
      <tbody>
        {keys.map((key) => (
          <tr key={key}>
            <td><code>{key}</code></td>
            <td>
              {values ? (
                <select value={value[key] ?? ""} onChange={(event) => onChange({ ...value, [key]: event.target.value })}>
                  <option value="">{t("unset")}</option>
                  {values.map((option) => <option key={option} value={option}>{option}</option>)}
                </select>
              ) : (
                <input value={value[key] ?? ""} onChange={(event) => onChange({ ...value, [key]: event.target.value })} />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
