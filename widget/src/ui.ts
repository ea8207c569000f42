// The widget's DOM, in an open shadow root. Text goes in as textContent only: nothing a
// visitor, an agent or the hub writes is ever parsed as HTML.

import type { ChatMessage, Look } from "./api";
import { stylesheet } from "./style";
import type { Texts } from "./texts";

export interface Handlers {
  toggle(): void;
  send(text: string): void;
  attach(file: File): void;
  feedback(replyId: string, helpful: boolean): void;
  handOff(): void;
  rate(score: number): void;
}

export interface Pending {
  id: string;
  text: string;
  failed: boolean;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text = ""): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

export class View {
  readonly launcher: HTMLButtonElement;
  readonly panel: HTMLElement;
  private readonly log: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly status: HTMLElement;

  constructor(host: HTMLElement, private readonly texts: Texts, look: Look, private readonly handlers: Handlers) {
    const root = host.attachShadow({ mode: "open" });
    root.appendChild(element("style", {}, stylesheet(look.colour)));
    this.launcher = element("button", { class: "launcher", type: "button", "aria-label": texts.open, "aria-expanded": "false",
      "data-testid": "sbw-launcher" }, "💬");
    this.launcher.addEventListener("click", () => handlers.toggle());
    this.panel = element("section", { class: "panel", role: "dialog", "aria-label": texts.title, "data-testid": "sbw-panel" });
    this.panel.hidden = true;
    this.panel.addEventListener("keydown", (event) => { if (event.key === "Escape") handlers.toggle(); });
    this.log = element("div", { class: "log", role: "log", "aria-live": "polite", "data-testid": "sbw-log" });
    this.status = element("div", { class: "status", role: "status" });
    this.input = element("textarea", { rows: "1", placeholder: texts.placeholder, "aria-label": texts.placeholder,
      maxlength: "10000", "data-testid": "sbw-input" });
    this.panel.append(this.header(look), this.log, this.status, this.composer());
    root.append(this.launcher, this.panel);
  }

  private header(look: Look): HTMLElement {
    const header = element("header");
    header.appendChild(element("h2", {}, this.texts.title));
    if (look.help_centre_url) {
      header.appendChild(element("a", { href: look.help_centre_url, target: "_blank", rel: "noopener" }, this.texts.help));
    }
    const close = element("button", { type: "button", "aria-label": this.texts.close }, "×");
    close.addEventListener("click", () => this.handlers.toggle());
    header.appendChild(close);
    return header;
  }

  private composer(): HTMLFormElement {
    const form = element("form");
    const file = element("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain",
      hidden: "" });
    const attach = element("button", { type: "button", class: "attach", "aria-label": this.texts.attach }, "📎");
    attach.addEventListener("click", () => file.click());
    file.addEventListener("change", () => {
      const chosen = file.files?.[0];
      if (chosen) this.handlers.attach(chosen);
      file.value = "";
    });
    const send = element("button", { type: "submit", "data-testid": "sbw-send" }, this.texts.send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (text) this.handlers.send(text);
      this.input.value = "";
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.append(file, attach, this.input, send);
    return form;
  }

  setOpen(open: boolean): void {
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    if (open) this.input.focus();
    else this.launcher.focus({ preventScroll: true });
  }

  say(text: string): void {
    this.status.textContent = text;
  }

  render(welcome: string, messages: ChatMessage[], pending: Pending[], extras: Node[]): void {
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    const nodes: Node[] = [this.bubble("system", "", welcome)];
    const lastAssistant = [...messages].reverse().find((m) => m.from === "assistant");
    for (const message of messages) {
      const bubble = this.bubble(message.from, this.who(message), message.text, this.meta(message));
      bubble.dataset.id = message.id;
      if (message === lastAssistant) bubble.appendChild(this.assistantActions(message.id));
      nodes.push(bubble);
    }
    for (const item of pending) {
      nodes.push(this.bubble("visitor", "", item.text, item.failed ? this.texts.failed : this.texts.sending));
    }
    this.log.replaceChildren(...nodes, ...extras);
    if (atBottom || pending.length) this.log.scrollTop = this.log.scrollHeight;
  }

  private who(message: ChatMessage): string {
    if (message.from === "assistant") return this.texts.assistant;
    if (message.from === "agent") return message.author || this.texts.agent;
    return "";
  }

  private meta(message: ChatMessage): string {
    const files = message.attachments.map((a) => `📎 ${a.filename ?? ""}`).join("  ");
    const time = new Date(message.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return [files, time].filter(Boolean).join(" · ");
  }

  private bubble(kind: string, who: string, text: string, meta = ""): HTMLElement {
    const bubble = element("div", { class: `bubble ${kind}`, "data-from": kind });
    if (who) bubble.appendChild(element("span", { class: "who" }, who));
    bubble.appendChild(document.createTextNode(text));
    if (meta) bubble.appendChild(element("span", { class: "meta" }, meta));
    return bubble;
  }

  private assistantActions(replyId: string): HTMLElement {
    const actions = element("div", { class: "actions" });
    actions.appendChild(element("span", {}, this.texts.helpful));
    for (const [label, helpful] of [[this.texts.yes, true], [this.texts.no, false]] as const) {
      const button = element("button", { type: "button" }, label);
      button.addEventListener("click", () => this.handlers.feedback(replyId, helpful));
      actions.appendChild(button);
    }
    const person = element("button", { type: "button", "data-testid": "sbw-person" }, this.texts.person);
    person.addEventListener("click", () => this.handlers.handOff());
    actions.appendChild(person);
    return actions;
  }

  rating(score: number | null): HTMLElement {
    const box = element("div", { class: "rating", "data-testid": "sbw-rating" });
    if (score !== null) {
      box.textContent = this.texts.rated.replace("{score}", String(score));
      return box;
    }
    box.appendChild(element("span", {}, this.texts.rate));
    const row = element("div", { role: "group", "aria-label": this.texts.rate });
    for (let value = 1; value <= 5; value += 1) {
      const button = element("button", { type: "button", "aria-label": `${value}/5` }, "★".repeat(value));
      button.addEventListener("click", () => this.handlers.rate(value));
      row.appendChild(button);
    }
    box.appendChild(row);
    return box;
  }

  note(text: string): HTMLElement {
    return element("div", { class: "note" }, text);
  }
}
