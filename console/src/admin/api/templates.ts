// Reply templates (by short code) and macros.
import { api } from "../../api/client";
import type { Macro, MacroFields, Rendered, ReplyTemplate, TemplateFields } from "./types";

const id = encodeURIComponent;

export async function listTemplates(): Promise<ReplyTemplate[]> {
  return (await api<{ templates: ReplyTemplate[] }>("/v1/templates")).templates;
}

export function createTemplate(code: string, fields: TemplateFields): Promise<ReplyTemplate> {
  return api<ReplyTemplate>("/v1/templates", { method: "POST", body: { code, ...fields } });
}

export function replaceTemplate(current: ReplyTemplate, fields: TemplateFields): Promise<ReplyTemplate> {
  return api<ReplyTemplate>(`/v1/templates/${id(current.code)}`, {
    method: "PUT", body: { ...fields, version: current.version },
  });
}

export function deleteTemplate(template: ReplyTemplate): Promise<ReplyTemplate> {
  return api<ReplyTemplate>(`/v1/templates/${id(template.code)}`, {
    method: "DELETE", query: { version: template.version },
  });
}

export function renderTemplate(code: string, ticketId: string, language?: string): Promise<Rendered> {
  return api<Rendered>(`/v1/templates/${id(code)}/render`, {
    method: "POST", body: { ticket_id: ticketId, language: language || null },
  });
}

export async function listMacros(): Promise<Macro[]> {
  return (await api<{ macros: Macro[] }>("/v1/macros")).macros;
}

export function saveMacro(fields: MacroFields, current?: Macro): Promise<Macro> {
  if (!current) return api<Macro>("/v1/macros", { method: "POST", body: fields });
  return api<Macro>(`/v1/macros/${id(current.id)}`, { method: "PUT", body: { ...fields, version: current.version } });
}

export function deleteMacro(macro: Macro): Promise<Macro> {
  return api<Macro>(`/v1/macros/${id(macro.id)}`, { method: "DELETE", query: { version: macro.version } });
}

/** Every template as CSV (code,title,language,text,tags; with a BOM for Excel). */
export function exportTemplates(): Promise<string> {
  return api<string>("/v1/templates/export", { accept: "text/csv" });
}

export interface ImportReport {
  mode: "merge" | "replace";
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: number;
}

/** All or nothing: a bad file writes nothing and lists every bad row. */
export function importTemplates(csv: string, replace: boolean): Promise<ImportReport> {
  return api<ImportReport>("/v1/templates/import", {
    method: "POST", body: { csv }, query: { mode: replace ? "replace" : "merge" },
  });
}
