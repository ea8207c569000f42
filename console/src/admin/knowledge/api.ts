// The tenant's knowledge base and assistant model: /v1/knowledge/… (agents read, tenant
// admins write). Imports go as the file's own bytes with its Content-Type (JSON or CSV).
import { api, call } from "../../api/client";
import type {
  Article, ArticleFields, ImportReport, Intent, IntentFields, IntentSummary, ModelStatus, TrainQueued,
} from "./types";

const id = encodeURIComponent;

export async function listArticles(language: string): Promise<Article[]> {
  return (await api<{ items: Article[] }>("/v1/knowledge/articles", { query: { language } })).items;
}

/** Creates or replaces the article `articleId` in `language`. */
export function saveArticle(articleId: string, language: string, fields: ArticleFields): Promise<Article> {
  return api<Article>(`/v1/knowledge/articles/${id(articleId)}/${id(language)}`, { method: "PUT", body: fields });
}

export async function deleteArticle(article: Article): Promise<void> {
  await call(`/v1/knowledge/articles/${id(article.id)}/${id(article.language)}`, { method: "DELETE" });
}

export async function listIntents(): Promise<IntentSummary[]> {
  return (await api<{ items: IntentSummary[] }>("/v1/knowledge/intents")).items;
}

export function readIntent(name: string): Promise<Intent> {
  return api<Intent>(`/v1/knowledge/intents/${id(name)}`);
}

export function saveIntent(name: string, fields: IntentFields): Promise<Intent> {
  return api<Intent>(`/v1/knowledge/intents/${id(name)}`, { method: "PUT", body: fields });
}

export async function deleteIntent(name: string): Promise<void> {
  await call(`/v1/knowledge/intents/${id(name)}`, { method: "DELETE" });
}

/** A file as it is: `text/csv` for a .csv (columns text,category or id,language,question,answer[,intent];
 *  `replace`: delete what it leaves out), else JSON (which says `"replace"` itself). */
export function importKnowledge(text: string, csv: boolean, replace = false): Promise<ImportReport> {
  return api<ImportReport>("/v1/knowledge/import", {
    method: "POST", body: text, contentType: csv ? "text/csv" : "application/json",
    query: { replace: csv && replace ? "true" : undefined },
  });
}

/** The whole knowledge base as the import's JSON (articles, intents). */
export function exportKnowledge(): Promise<unknown> {
  return api<unknown>("/v1/knowledge/export");
}

export function modelStatus(): Promise<ModelStatus> {
  return api<ModelStatus>("/v1/knowledge/model");
}

export function train(): Promise<TrainQueued> {
  return api<TrainQueued>("/v1/knowledge/train", { method: "POST", body: {} });
}
