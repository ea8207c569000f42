// An IANA time zone, from the browser's own list (UTC first).
import { useMemo } from "react";

interface Props {
  value: string;
  onChange: (zone: string) => void;
  id?: string;
  testId?: string;
}

function zones(): string[] {
  const listed = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return ["UTC", ...listed.filter((zone) => zone !== "UTC")];
}

export function TimeZoneSelect({ value, onChange, id, testId }: Props) {
  const options = useMemo(() => {
    const all = zones();
    return value && !all.includes(value) ? [value, ...all] : all;
  }, [value]);
  return (
    <select id={id} value={value} data-testid={testId ?? "time-zone"} onChange={(event) => onChange(event.target.value)}>
      {options.map((zone) => <option key={zone} value={zone}>{zone}</option>)}
    </select>
  );
}
