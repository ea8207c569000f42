// One condition or action: its type, then the fields that type takes.
import { useT } from "../../i18n";
import type { Step } from "../api/types";
import { ListInput } from "../common/ListInput";
import { MultiCheck } from "../common/MultiCheck";
import { adminMessages, type AdminKey } from "../messages";
import { blankStep, type FieldSpec, type RefKind } from "./steps";

export type RefOptions = Record<RefKind, { value: string; label: string }[]>;

interface Props {
  step: Step;
  specs: Record<string, FieldSpec[]>;
  /** the messages' prefix of the type names: cond_ or act_ */
  prefix: "cond_" | "act_";
  refs: RefOptions;
  onChange: (step: Step) => void;
  onRemove: () => void;
  testId: string;
}

export function StepEditor({ step, specs, prefix, refs, onChange, onRemove, testId }: Props) {
  const t = useT(adminMessages);
  const set = (name: string, value: unknown) => onChange({ ...step, [name]: value });
  const label = (name: string) => t(`f_${name}` as AdminKey);

  function input(field: FieldSpec) {
    const value = step[field.name];
    switch (field.kind) {
      case "list":
        return <ListInput value={(value as string[] | undefined) ?? []} onChange={(list) => set(field.name, list)}
                          testId={`${testId}-${field.name}`} />;
      case "multi":
        return <MultiCheck options={(field.options ?? []).map((option) => ({ value: option, label: option }))}
                           value={(value as string[] | undefined) ?? []} onChange={(list) => set(field.name, list)}
                           testId={`${testId}-${field.name}`} />;
      case "bool":
        return <input type="checkbox" checked={Boolean(value)} data-testid={`${testId}-${field.name}`}
                      onChange={(event) => set(field.name, event.target.checked)} />;
      case "enum":
        return (
          <select value={(value as string | null) ?? ""} data-testid={`${testId}-${field.name}`}
                  onChange={(event) => set(field.name, event.target.value)}>
            {(field.options ?? []).map((option) => <option key={option} value={option}>{option || t("any")}</option>)}
          </select>
        );
      case "ref": {
        const options = refs[field.ref ?? "group"];
        const current = (value as string | undefined) ?? "";
        return (
          <select value={current} data-testid={`${testId}-${field.name}`} onChange={(event) => set(field.name, event.target.value)}>
            <option value="">{t("pick")}</option>
            {current && !options.some((option) => option.value === current) && <option value={current}>{current}</option>}
            {options.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
          </select>
        );
      }
      case "textarea":
        return <textarea value={(value as string | undefined) ?? ""} data-testid={`${testId}-${field.name}`}
                         onChange={(event) => set(field.name, event.target.value)} />;
      default:
        return <input value={(value as string | null | undefined) ?? ""} data-testid={`${testId}-${field.name}`}
                      onChange={(event) => set(field.name, event.target.value)} />;
    }
  }

  return (
    <div className="admin-step" data-testid={testId} data-type={step.type}>
      <select value={step.type} aria-label="type" data-testid={`${testId}-type`}
              onChange={(event) => onChange(blankStep(event.target.value, specs))}>
        {Object.keys(specs).map((type) => <option key={type} value={type}>{t(`${prefix}${type}` as AdminKey)}</option>)}
      </select>
      {(specs[step.type] ?? []).map((field) => (
        <label key={field.name} className={field.kind === "bool" ? "admin-check" : "admin-field"}>
          {field.kind === "bool" ? <>{input(field)} {label(field.name)}</> : <><span className="label">{label(field.name)}</span>{input(field)}</>}
        </label>
      ))}
      <button type="button" className="link" aria-label={t("remove")} data-testid={`${testId}-remove`} onClick={onRemove}>✕</button>
    </div>
  );
}
