// Shapes of /v1/knowledge (the issue-14 contract): FAQ articles per language, intents with
// labelled examples, the import report and the tenant's assistant model.

export interface Article {
  id: string;
  language: string;
  questions: string[];
  answer: string;
  intent: string | null;
  updated_at: string;
}

export interface ArticleFields {
  questions: string[];
  answer: string;
  intent?: string | null;
}

export interface IntentSummary {
  name: string;
  description: string;
  example_count: number;
  updated_at: string;
}

export interface Intent {
  name: string;
  description: string;
  examples: string[];
  updated_at: string;
}

export interface IntentFields {
  description?: string;
  examples: string[];
}

export interface ImportReport {
  articles: number;
  intents: number;
  examples: number;
  knowledge_version: number;
}

export type ModelState = "none" | "queued" | "training" | "ready" | "failed";

export interface ModelStatus {
  assistant: string | null;
  state: ModelState;
  knowledge_version: number;
  model_version: number | null;
  trained_at: string | null;
  threshold: number | null;
  effective_threshold: number | null;
  labels: number;
  figures: Record<string, number>;
  error: string | null;
}

export interface TrainQueued {
  state: "queued";
  knowledge_version: number;
}
