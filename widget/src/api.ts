// The hub's /widget/{tenant}/... routes, as the widget calls them (docs/channels/widget.md).

export interface Look {
  welcome: Record<string, string>;
  colour: string;
  languages: string[];
  help_centre_url: string | null;
}

export interface Session {
  token: string;
  visitor_id: string;
  identity: "visitor" | "user";
  expires_at: string;
  config: Look;
}

export interface Attachment {
  filename: string | null;
  content_type: string | null;
  size_bytes: number | null;
}

export interface ChatMessage {
  id: string;
  from: "visitor" | "agent" | "assistant" | "system";
  text: string;
  at: string;
  status: string | null;
  author: string | null;
  client_message_id: string | null;
  attachments: Attachment[];
}

export interface Poll {
  cursor: string;
  changed: boolean;
  ticket_id?: string | null;
  status?: string | null;
  messages?: ChatMessage[];
  survey?: { state: "sent" | "answered"; score: number | null } | null;
}

export interface Identity {
  user_id?: string;
  user_hash?: string;
  email?: string;
  email_hash?: string;
  name?: string;
}

export class HubError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly retryAfter = 0) {
    super(message);
  }
}

export class Hub {
  token: string | null = null;
  private etag: string | null = null;

  constructor(private readonly base: string, private readonly tenant: string) {}

  private url(route: string, query = ""): string {
    return `${this.base}/widget/${encodeURIComponent(this.tenant)}/${route}${query}`;
  }

  private async call<T>(method: string, route: string, body?: unknown, query = "", extra: Record<string, string> = {}): Promise<[number, T | null]> {
    const headers: Record<string, string> = { ...extra };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const answer = await fetch(this.url(route, query), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", mode: "cors",
    });
    if (answer.status === 304) return [304, null];
    const text = await answer.text();
    const data = text ? JSON.parse(text) : null;
    if (!answer.ok) {
      const error = data?.error ?? {};
      const retry = Number(answer.headers.get("Retry-After") ?? "0");
      throw new HubError(answer.status, String(error.code ?? "error"), String(error.message ?? answer.statusText), retry);
    }
    if (method === "GET") this.etag = answer.headers.get("ETag");
    return [answer.status, data as T];
  }

  async session(previous: string | null, identity: Identity, language: string): Promise<Session> {
    const body = { ...identity, visitor_token: previous ?? undefined, language };
    const [, session] = await this.call<Session>("POST", "session", body);
    this.token = session!.token;
    return session!;
  }

  async send(clientMessageId: string, text: string, attachments: string[], language: string): Promise<void> {
    await this.call("POST", "messages", {
      client_message_id: clientMessageId, text, attachments, language, page_url: location.href.slice(0, 2000),
    });
  }

  async poll(cursor: string | null, pending: boolean, open: boolean): Promise<Poll | null> {
    const query = new URLSearchParams();
    if (cursor) query.set("after", cursor);
    if (pending) query.set("pending", "1");
    if (open) query.set("open", "1");
    const search = query.toString() ? `?${query}` : "";
    const extra: Record<string, string> = cursor && this.etag ? { "If-None-Match": this.etag } : {};
    const [, poll] = await this.call<Poll>("GET", "messages", undefined, search, extra);
    return poll;
  }

  async upload(file: File): Promise<string> {
    const [, grant] = await this.call<{ key: string; url: string; fields: Record<string, string> }>(
      "POST", "uploads", { filename: file.name, content_type: file.type || "application/octet-stream", size: file.size });
    const form = new FormData();
    for (const [name, value] of Object.entries(grant!.fields)) form.append(name, value);
    form.append("file", file);
    const stored = await fetch(grant!.url, { method: "POST", body: form, mode: "cors", credentials: "omit" });
    if (!stored.ok) throw new HubError(stored.status, "upload_failed", "the file could not be uploaded");
    return grant!.key;
  }

  async csat(ticketId: string, score: number): Promise<void> {
    await this.call("POST", "csat", { ticket_id: ticketId, score });
  }

  async feedback(ticketId: string, replyId: string, helpful: boolean): Promise<void> {
    await this.call("POST", "feedback", { ticket_id: ticketId, reply_id: replyId, helpful });
  }

  async handOff(ticketId: string): Promise<void> {
    await this.call("POST", "handoff", { ticket_id: ticketId });
  }
}
