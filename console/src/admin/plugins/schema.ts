// Reading a plugin's config JSON Schema (pydantic's) into form fields, and the form back
// into the config the hub takes. Secrets (`writeOnly` / `format: password`, the vault's
// convention, docs/secrets.md) are never shown: the marker read is sent back to keep one,
// a value the admin typed replaces it.
import type { SchemaNode } from "../api/types";

export type Kind = "secret" | "secretList" | "boolean" | "integer" | "number" | "enum" | "string" | "stringList" | "map" | "json";

export interface FormField {
  name: string;
  node: SchemaNode;
  kind: Kind;
  nullable: boolean;
  required: boolean;
  /** a field that only keeps a secret being rotated out (e.g. previous_secret): shown, never edited */
  rotationTarget: boolean;
}

/** `anyOf: [X, null]` → X, nullable. */
export function unwrap(node: SchemaNode): { node: SchemaNode; nullable: boolean } {
  const branches = node.anyOf;
  if (!branches) return { node, nullable: false };
  const real = branches.filter((branch) => branch.type !== "null");
  const first = real[0];
  if (real.length === 1 && first) return { node: { ...node, ...first, anyOf: undefined }, nullable: real.length < branches.length };
  return { node, nullable: real.length < branches.length };
}

export function isSecret(node: SchemaNode): boolean {
  return node.writeOnly === true || node.format === "password";
}

function kindOf(node: SchemaNode): Kind {
  if (isSecret(node)) return "secret";
  if (node.enum) return "enum";
  if (node.type === "array" && node.items && isSecret(node.items)) return "secretList";
  if (node.type === "array" && node.items?.type === "string" && !node.items.enum) return "stringList";
  if (node.type === "object" && typeof node.additionalProperties === "object" && !node.properties) {
    const value = node.additionalProperties.type;
    if (value === "string" || value === "integer" || value === "number") return "map";
  }
  if (node.type === "boolean" || node.type === "integer" || node.type === "number" || node.type === "string") return node.type;
  return "json";
}

export function fieldsOf(schema: SchemaNode): FormField[] {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const targets = new Set<string>();
  for (const [name, raw] of Object.entries(properties)) {
    const rotation = raw["x-switchboard-rotation"] ?? unwrap(raw).node["x-switchboard-rotation"];
    if (rotation && rotation !== name) targets.add(rotation);
  }
  return Object.entries(properties).map(([name, raw]) => {
    const { node, nullable } = unwrap(raw);
    return { name, node, kind: kindOf(node), nullable, required: required.has(name), rotationTarget: targets.has(name) };
  });
}

/** A secret marker as the hub reads it back: `{"secret": "***", "updated_at", "grace_until"?, "id"?}`. */
export interface Marker {
  secret?: string;
  updated_at?: string;
  grace_until?: string;
  id?: string;
}

export function isMarker(value: unknown): value is Marker {
  return typeof value === "object" && value !== null && "secret" in value;
}

/** The text an input shows for a plain value read from the config. */
export function textOf(field: FormField, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (field.kind === "json") return JSON.stringify(value, null, 2);
  return String(value);
}

/** A field's problem before sending, or null. */
export function problemOf(field: FormField, text: string, t: (key: "required" | "notNumber" | "tooSmall" | "tooLarge" | "patternMismatch", vars?: Record<string, string | number>) => string): string | null {
  const node = field.node;
  if (text === "") return field.required && node.default === undefined && !field.nullable ? t("required") : null;
  if (field.kind === "integer" || field.kind === "number") {
    const number = Number(text);
    if (Number.isNaN(number) || (field.kind === "integer" && !Number.isInteger(number))) return t("notNumber");
    if (node.minimum !== undefined && number < node.minimum) return t("tooSmall", { min: node.minimum });
    if (node.exclusiveMinimum !== undefined && number <= node.exclusiveMinimum) return t("tooSmall", { min: `> ${node.exclusiveMinimum}` });
    if (node.maximum !== undefined && number > node.maximum) return t("tooLarge", { max: node.maximum });
  }
  if (field.kind === "string" && node.pattern) {
    try {
      if (!new RegExp(node.pattern).test(text)) return t("patternMismatch", { pattern: node.pattern });
    } catch {
      return null; // a pattern this browser cannot read: the hub checks it
    }
  }
  return null;
}

/** A plain field's value from the text typed; undefined: leave it out (its default applies). */
export function valueOf(field: FormField, text: string): unknown {
  if (text === "") return field.nullable ? null : undefined;
  switch (field.kind) {
    case "integer":
    case "number":
      return Number(text);
    case "enum":
      return typeof field.node.enum?.[0] === "number" ? Number(text) : text;
    case "json":
      return JSON.parse(text) as unknown;
    default:
      return text;
  }
}
