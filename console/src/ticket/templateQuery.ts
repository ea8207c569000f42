// "/code" typed at the caret: what the agent is looking for and where it starts.
import type { ReplyTemplate } from "./types";

export interface TemplateQuery {
  query: string;
  start: number;
  end: number;
}

const TOKEN = /(^|\s)\/([a-z0-9_.-]{0,40})$/i;

export function templateQueryAt(text: string, caret: number): TemplateQuery | null {
  const match = TOKEN.exec(text.slice(0, caret));
  if (!match) return null;
  const query = (match[2] ?? "").toLowerCase();
  return { query, start: caret - query.length - 1, end: caret };
}

/** Codes starting with the query first, then codes or titles containing it; at most 8. */
export function matchTemplates(templates: ReplyTemplate[], query: string): ReplyTemplate[] {
  const starts = templates.filter((item) => item.code.startsWith(query));
  const contains = templates.filter((item) => !item.code.startsWith(query)
    && (item.code.includes(query) || item.title.toLowerCase().includes(query)));
  return [...starts, ...contains].slice(0, 8);
}

export function insertAt(text: string, range: TemplateQuery, insert: string): { text: string; caret: number } {
  return { text: text.slice(0, range.start) + insert + text.slice(range.end), caret: range.start + insert.length };
}
