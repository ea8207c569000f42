// The hub's API as the console calls it: the agent's ID token on every call, one
// refresh on a 401, errors as the hub's {"error": {"code", "message"}} body.
import { currentToken, refreshSession, signalSignedOut } from "../auth/tokens";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Per-field reasons of a 400/422 (the hub's `error.fields`), empty otherwise. */
  readonly fields: unknown[];

  constructor(status: number, code: string, message: string, fields: unknown[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  /** ETag of the last answer: a 304 answers `null` instead of a body. */
  etag?: string;
  signal?: AbortSignal;
  accept?: string;
  /** Send `body` as it is (a string: a CSV file) with this Content-Type instead of as JSON. */
  contentType?: string;
}

export interface Answer<T> {
  status: number;
  body: T | null;
  etag: string | null;
}

function url(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(path: string, options: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: options.accept ?? "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["Content-Type"] = options.contentType ?? "application/json";
  if (options.etag) headers["If-None-Match"] = options.etag;
  const raw = options.contentType !== undefined && typeof options.body === "string";
  return fetch(url(path, options.query), {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : raw ? (options.body as string) : JSON.stringify(options.body),
    signal: options.signal,
  });
}

async function failure(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; fields?: unknown[] } };
    return new ApiError(response.status, body.error?.code ?? "http_error", body.error?.message ?? response.statusText,
                        body.error?.fields ?? []);
  } catch {
    return new ApiError(response.status, "http_error", response.statusText || `HTTP ${response.status}`);
  }
}

/** A call with its status and ETag (for polling with If-None-Match). */
export async function call<T>(path: string, options: RequestOptions = {}): Promise<Answer<T>> {
  let response = await send(path, options, currentToken());
  if (response.status === 401 && (await refreshSession())) {
    response = await send(path, options, currentToken());
  }
  if (response.status === 401) signalSignedOut();
  if (response.status === 304) return { status: 304, body: null, etag: options.etag ?? null };
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return { status: 204, body: null, etag: null };  // (its Content-Type may still say JSON)
  const type = response.headers.get("Content-Type") ?? "";
  const body = type.includes("json") ? ((await response.json()) as T) : ((await response.text()) as unknown as T);
  return { status: response.status, body, etag: response.headers.get("ETag") };
}

/** The body of a call that must answer one. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const answer = await call<T>(path, options);
  if (answer.body === null) throw new ApiError(answer.status, "no_body", "the hub answered without a body");
  return answer.body;
}

/** Calls made without a token (sign-in). */
export async function anonymous<T>(path: string, body: unknown): Promise<T> {
  const response = await send(path, { method: "POST", body }, null);
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}
