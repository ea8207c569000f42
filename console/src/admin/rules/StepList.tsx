// A list of conditions or actions with add and remove.
import { useT } from "../../i18n";
import type { Step } from "../api/types";
import { adminMessages } from "../messages";
import { StepEditor, type RefOptions } from "./StepEditor";
import { blankStep, type FieldSpec } from "./steps";

interface Props {
  steps: Step[];
  specs: Record<string, FieldSpec[]>;
  prefix: "cond_" | "act_";
  refs: RefOptions;
  onChange: (steps: Step[]) => void;
  addLabel: string;
  testId: string;
  firstType: string;
}

export function StepList({ steps, specs, prefix, refs, onChange, addLabel, testId, firstType }: Props) {
  const t = useT(adminMessages);
  const replace = (index: number, step: Step) => onChange(steps.map((old, at) => (at === index ? step : old)));
  return (
    <div className="admin-form" data-testid={testId}>
      {steps.map((step, index) => (
        <StepEditor key={index} step={step} specs={specs} prefix={prefix} refs={refs} testId={`${testId}-${index}`}
                    onChange={(next) => replace(index, next)}
                    onRemove={() => onChange(steps.filter((_, at) => at !== index))} />
      ))}
      {steps.length === 0 && <span className="admin-empty">{t("none")}</span>}
      <div>
        <button type="button" className="admin-small" data-testid={`${testId}-add`}
                onClick={() => onChange([...steps, blankStep(firstType, specs)])}>+ {addLabel}</button>
      </div>
    </div>
  );
}
