// What an audit record changed: every leaf path whose value differs between before and after.
export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function diff(before: unknown, after: unknown, path = "", out: Change[] = []): Change[] {
  if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      diff(before[key], after[key], path ? `${path}.${key}` : key, out);
    }
  } else if (JSON.stringify(before) !== JSON.stringify(after)) {
    out.push({ path: path || "(record)", before, after });
  }
  return out;
}

export function show(value: unknown): string {
  return value === undefined ? "—" : typeof value === "string" ? value : JSON.stringify(value);
}
