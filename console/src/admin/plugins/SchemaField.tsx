// One config field drawn from its JSON Schema: text, number, boolean, enum, list of
// strings, mapping, secret, list of secrets, else raw JSON.
import { useT } from "../../i18n";
import { Field } from "../common/Field";
import { ListInput } from "../common/ListInput";
import { adminMessages } from "../messages";
import type { SecretList } from "./configDraft";
import { MapField } from "./MapField";
import type { FormField } from "./schema";
import { SecretField } from "./SecretField";
import { SecretListField } from "./SecretListField";

interface Props {
  field: FormField;
  value: unknown;
  stored: unknown;
  problem: string | null;
  onChange: (value: unknown) => void;
}

export function SchemaField({ field, value, stored, problem, onChange }: Props) {
  const t = useT(adminMessages);
  const { node, name, kind } = field;
  const label = `${node.title ?? name}${field.required ? " *" : ""}`;
  const fallback = node.default !== undefined && node.default !== null ? t("defaultIs", { value: JSON.stringify(node.default) }) : undefined;
  const id = `config-${name}`;

  if (kind === "boolean") {
    return (
      <label className="admin-check" title={node.description}>
        <input type="checkbox" checked={Boolean(value)} data-testid={id} onChange={(event) => onChange(event.target.checked)} />
        {label}
      </label>
    );
  }

  function control() {
    switch (kind) {
      case "secret":
        return <SecretField name={name} stored={stored} typed={value as string} readOnly={field.rotationTarget} onChange={onChange} />;
      case "secretList":
        return <SecretListField name={name} value={value as SecretList} max={node.maxItems ?? 10} onChange={onChange} />;
      case "stringList":
        return <ListInput value={value as string[]} onChange={onChange} lines testId={id} />;
      case "map":
        return <MapField name={name} node={node} value={value as Record<string, string>} onChange={onChange} />;
      case "enum":
        return (
          <select value={value as string} data-testid={id} onChange={(event) => onChange(event.target.value)}>
            {(field.nullable || !field.required || value === "") && <option value="">{fallback ?? t("unset")}</option>}
            {(node.enum ?? []).map((option) => <option key={String(option)} value={String(option)}>{String(option)}</option>)}
          </select>
        );
      case "json":
        return <textarea className="admin-json" style={{ minHeight: 80 }} value={value as string} data-testid={id}
                         onChange={(event) => onChange(event.target.value)} />;
      default:
        return (
          <input type={kind === "integer" || kind === "number" ? "number" : node.format === "uri" ? "url" : "text"}
                 step={kind === "number" ? "any" : undefined} min={node.minimum} max={node.maximum}
                 maxLength={node.maxLength} value={value as string} placeholder={fallback} data-testid={id}
                 onChange={(event) => onChange(event.target.value)} />
        );
    }
  }

  return <Field label={label} hint={node.description} problem={problem}>{control()}</Field>;
}
