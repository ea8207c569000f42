// A labelled form row, with an optional hint and a client-side problem.
import type { ReactNode } from "react";

interface Props {
  label: string;
  children: ReactNode;
  hint?: string;
  problem?: string | null;
}

export function Field({ label, children, hint, problem }: Props) {
  return (
    <label className="admin-field">
      <span className="label">{label}</span>
      {children}
      {hint && <small className="hint">{hint}</small>}
      {problem && <small className="problem" data-testid="field-problem">{problem}</small>}
    </label>
  );
}
