// The config form's state per field, and the config it sends.
import type { Plugin } from "../api/types";
import { isMarker, problemOf, textOf, valueOf, type FormField, type Marker } from "./schema";

export interface SecretList {
  kept: Marker[];
  added: string[];
}

/** Per field: text (scalars, json), boolean, string[] (lists), Record (maps), typed secret, SecretList. */
export type Draft = Record<string, unknown>;

type Translate = Parameters<typeof problemOf>[2];

export function initialDraft(fields: FormField[], plugin: Plugin): Draft {
  const read = plugin.config ?? {};
  const draft: Draft = {};
  for (const field of fields) {
    const value = read[field.name];
    switch (field.kind) {
      case "secret":
        draft[field.name] = "";
        break;
      case "secretList":
        draft[field.name] = { kept: Array.isArray(value) ? value.filter(isMarker) : [], added: [] } satisfies SecretList;
        break;
      case "boolean":
        draft[field.name] = Boolean(value ?? field.node.default ?? false);
        break;
      case "stringList":
        draft[field.name] = Array.isArray(value) ? value.map(String) : [];
        break;
      case "map":
        draft[field.name] = Object.fromEntries(
          Object.entries((value as Record<string, unknown> | null) ?? {}).map(([key, item]) => [key, String(item)]),
        );
        break;
      default:
        draft[field.name] = textOf(field, value);
    }
  }
  return draft;
}

function mapValue(field: FormField, entries: Record<string, string>): Record<string, unknown> {
  const type = typeof field.node.additionalProperties === "object" ? field.node.additionalProperties.type : "string";
  return Object.fromEntries(
    Object.entries(entries)
      .filter(([key, text]) => key.trim() && text.trim() !== "")
      .map(([key, text]) => [key.trim(), type === "integer" || type === "number" ? Number(text) : text]),
  );
}

/** What one field sends (undefined: left out) and what is wrong with it. */
function one(field: FormField, draft: Draft, read: Record<string, unknown>, t: Translate): [unknown, string | null] {
  const value = draft[field.name];
  const stored = read[field.name];
  const has = stored !== undefined && stored !== null;
  switch (field.kind) {
    case "secret": {
      if (field.rotationTarget) return [has ? stored : undefined, null];
      const typed = value as string;
      if (typed) return [typed, null];
      return [has ? stored : undefined, field.required && !has ? t("required") : null];
    }
    case "secretList": {
      const list = value as SecretList;
      const all = [...list.added.filter((item) => item.trim()), ...list.kept];
      const missing = (field.required || (field.node.minItems ?? 0) > 0) && all.length === 0;
      return [all.length || has ? all : undefined, missing ? t("required") : null];
    }
    case "boolean":
      return [value, null];
    case "stringList": {
      const list = value as string[];
      return [list.length || has ? list : undefined, field.required && !list.length ? t("required") : null];
    }
    case "map": {
      const map = mapValue(field, value as Record<string, string>);
      return [Object.keys(map).length || has ? map : undefined, null];
    }
    default: {
      const text = (value as string).trim();
      const problem = problemOf(field, text, t);
      if (problem) return [undefined, problem];
      try {
        return [valueOf(field, text), null];
      } catch (error) {
        return [undefined, (error as Error).message];
      }
    }
  }
}

export function buildConfig(fields: FormField[], draft: Draft, plugin: Plugin, t: Translate) {
  const read = plugin.config ?? {};
  const config: Record<string, unknown> = {};
  const problems: Record<string, string> = {};
  for (const field of fields) {
    const [value, problem] = one(field, draft, read, t);
    if (problem) problems[field.name] = problem;
    if (value !== undefined) config[field.name] = value;
  }
  return { config, problems };
}
