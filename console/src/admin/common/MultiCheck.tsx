// Several of a few options, as checkboxes.
interface Props<V extends string> {
  options: { value: V; label: string }[];
  value: V[];
  onChange: (value: V[]) => void;
  testId?: string;
}

export function MultiCheck<V extends string>({ options, value, onChange, testId }: Props<V>) {
  const toggle = (option: V, on: boolean) =>
    onChange(on ? [...value.filter((v) => v !== option), option] : value.filter((v) => v !== option));
  return (
    <span className="admin-multi" data-testid={testId}>
      {options.map((option) => (
        <label key={option.value} className="admin-check">
          <input type="checkbox" checked={value.includes(option.value)} value={option.value}
                 onChange={(event) => toggle(option.value, event.target.checked)} />
          {option.label}
        </label>
      ))}
    </span>
  );
}
