// The Switchboard web chat widget. Embedded with one tag:
//   <script src="https://HUB/widget.js" data-tenant="TENANT" async></script>
// Optional, before it: window.SwitchboardSettings = { user_id, user_hash, email, email_hash, name, language }
// (hashes from the business's backend: docs/channels/widget.md, "Identity verification").
//
// It keeps in localStorage what makes a reload seamless — the visitor token (and so the
// visitor's id), whether the chat was open, and messages not yet confirmed — and asks the hub
// for the conversation again after a reload (nothing of the conversation is kept in the
// browser). It polls every 2.5 s while open (replies appear within the 5 s promised), every
// 15 s while closed, and not at all in a hidden tab.

import { type ChatMessage, Hub, HubError, type Identity, type Look, type Poll } from "./api";
import { type Language, languageOf, textsFor, type Texts } from "./texts";
import { type Pending, View } from "./ui";

const OPEN_POLL_MS = 2500;
const CLOSED_POLL_MS = 15000;

interface Settings extends Identity { language?: string }
interface Saved { token?: string; user?: string | null; open?: boolean; outbox?: Pending[] }

declare global {
  interface Window { SwitchboardSettings?: Settings; __switchboardWidget?: boolean }
}

function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

class Widget {
  private readonly hub: Hub;
  private readonly key: string;
  private readonly language: Language;
  private readonly texts: Texts;
  private saved: Saved;
  private view: View | null = null;
  private look: Look | null = null;
  private cursor: string | null = null;
  private messages: ChatMessage[] = [];
  private ticketId: string | null = null;
  private survey: Poll["survey"] = null;
  private notes: string[] = [];
  private timer = 0;

  constructor(base: string, tenant: string, private readonly settings: Settings) {
    this.hub = new Hub(base, tenant);
    this.key = `switchboard-widget:${base}:${tenant}`;
    this.language = languageOf(settings.language);
    this.texts = textsFor(this.language);
    this.saved = this.load();
  }

  private load(): Saved {
    try {
      return JSON.parse(localStorage.getItem(this.key) ?? "{}") as Saved;
    } catch {
      return {};
    }
  }

  private save(): void {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.saved));
    } catch {
      // private browsing without storage: the chat works, a reload starts over
    }
  }

  async start(): Promise<void> {
    const session = await this.session();
    this.look = session.config;
    const host = document.createElement("div");
    host.id = "switchboard-widget";
    document.body.appendChild(host);
    this.view = new View(host, this.texts, session.config, {
      toggle: () => this.toggle(),
      send: (text) => void this.send(text),
      attach: (file) => void this.attach(file),
      feedback: (replyId, helpful) => void this.act(() => this.hub.feedback(this.ticketId!, replyId, helpful), this.texts.thanksFeedback),
      handOff: () => void this.act(() => this.hub.handOff(this.ticketId!), this.texts.handedOff),
      rate: (score) => void this.act(() => this.hub.csat(this.ticketId!, score)),
    });
    this.view.setOpen(Boolean(this.saved.open));
    this.render();
    document.addEventListener("visibilitychange", () => this.schedule(0));
    this.schedule(0);
  }

  private async session(): Promise<{ token: string; config: Look }> {
    const identity: Identity = {};
    for (const name of ["user_id", "user_hash", "email", "email_hash", "name"] as const) {
      if (this.settings[name]) identity[name] = this.settings[name];
    }
    const sameUser = (this.saved.user ?? null) === (identity.user_id ?? null);
    const session = await this.hub.session(sameUser ? this.saved.token ?? null : null, identity, this.language);
    if (!sameUser) this.saved.outbox = [];
    this.saved.token = session.token;
    this.saved.user = identity.user_id ?? null;
    this.save();
    return session;
  }

  private toggle(): void {
    this.saved.open = !this.saved.open;
    this.save();
    this.view?.setOpen(this.saved.open);
    this.schedule(0);
  }

  private schedule(delay: number): void {
    window.clearTimeout(this.timer);
    if (document.visibilityState === "hidden") return;
    this.timer = window.setTimeout(() => void this.tick(), delay);
  }

  private async tick(): Promise<void> {
    try {
      await this.flush();
      const outbox = this.saved.outbox ?? [];
      const poll = await this.hub.poll(this.cursor, outbox.length > 0, Boolean(this.saved.open));
      if (poll) this.absorb(poll);
      this.view?.say("");
    } catch (error) {
      await this.recover(error);
    }
    this.schedule(this.saved.open ? OPEN_POLL_MS : CLOSED_POLL_MS);
  }

  private absorb(poll: Poll): void {
    this.cursor = poll.cursor;
    if (!poll.changed) return;
    this.messages = poll.messages ?? [];
    this.ticketId = poll.ticket_id ?? null;
    this.survey = poll.survey ?? null;
    const shown = new Set(this.messages.map((m) => m.client_message_id));
    this.saved.outbox = (this.saved.outbox ?? []).filter((p) => !shown.has(p.id));
    this.save();
    this.render();
  }

  private async recover(error: unknown): Promise<void> {
    if (error instanceof HubError && error.status === 401) {
      this.hub.token = null;
      await this.session().catch(() => undefined);
    } else if (error instanceof HubError && error.status === 400) {
      this.cursor = null;  // a cursor of another session: start over
    } else if (error instanceof HubError && error.status === 429) {
      this.view?.say(this.texts.tooFast);
    } else {
      this.view?.say(this.texts.offline);
    }
  }

  private async flush(): Promise<void> {
    for (const item of this.saved.outbox ?? []) {
      if (!item.failed) continue;
      await this.hub.send(item.id, item.text, [], this.language);
      item.failed = false;
      this.save();
    }
  }

  private async send(text: string, attachments: string[] = []): Promise<void> {
    const item: Pending = { id: newId(), text, failed: false };
    this.saved.outbox = [...(this.saved.outbox ?? []), item];
    this.save();
    this.render();
    try {
      await this.hub.send(item.id, text, attachments, this.language);
    } catch (error) {
      item.failed = attachments.length === 0;  // a resend carries no file: drop those
      if (!item.failed) this.saved.outbox = this.saved.outbox.filter((p) => p !== item);
      this.save();
      await this.recover(error);
    }
    this.schedule(300);
  }

  private async attach(file: File): Promise<void> {
    try {
      const key = await this.hub.upload(file);
      await this.send(file.name, [key]);
    } catch {
      this.view?.say(this.texts.uploadFailed);
    }
  }

  private async act(action: () => Promise<void>, note?: string): Promise<void> {
    if (!this.ticketId) return;
    try {
      await action();
      if (note) this.notes = [...this.notes, note];
      this.render();
      this.schedule(300);
    } catch (error) {
      await this.recover(error);
    }
  }

  private render(): void {
    if (!this.view || !this.look) return;
    const welcome = this.look.welcome[this.language] ?? this.look.welcome.en ?? "";
    const extras: Node[] = this.notes.map((note) => this.view!.note(note));
    if (this.survey) extras.push(this.view.rating(this.survey.state === "answered" ? this.survey.score : null));
    this.view.render(welcome, this.messages, this.saved.outbox ?? [], extras);
  }
}

function boot(): void {
  if (window.__switchboardWidget) return;  // pasted twice: one widget
  const script = (document.currentScript as HTMLScriptElement | null)
    ?? document.querySelector<HTMLScriptElement>("script[data-tenant][src*='widget.js']");
  const tenant = script?.dataset.tenant;
  if (!script || !tenant) return;
  window.__switchboardWidget = true;
  const base = script.src.replace(/\/widget\.js(\?.*)?$/, "");
  const widget = new Widget(base, tenant, window.SwitchboardSettings ?? {});
  const go = () => void widget.start().catch((error) => console.warn("Switchboard widget:", error));
  if (document.body) go();
  else document.addEventListener("DOMContentLoaded", go, { once: true });
}

boot();
