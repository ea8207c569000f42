// Shapes of the ticket view's calls (docs/openapi.json: TicketDetail, Message, Customer,
// HistoryEntryView, CustomerDetail, ReplyTemplate, Rendered).
import type { Stage, TicketView } from "../api/types";

export type DeliveryStatus = "queued" | "sent" | "delivered" | "read" | "failed";

export interface Attachment {
  url?: string | null;
  filename?: string | null;
  content_type?: string | null;
  size_bytes?: number | null;
  inline?: boolean;
}

export interface Message {
  id: string;
  ticket_id: string;
  customer_id: string;
  channel: string;
  direction?: "inbound" | "outbound";
  kind?: "message" | "call" | "voicemail" | "transcription" | "event" | "delivery_failure";
  internal?: boolean;
  text?: string;
  subject?: string | null;
  author_id?: string | null;
  author_name?: string | null;
  attachments?: Attachment[];
  metadata?: Record<string, string>;
  status?: DeliveryStatus | null;
  status_at?: string | null;
  error_code?: string | null;
  error_reason?: string | null;
  client_message_id?: string | null;
  provider_message_id: string;
  received_at: string;
}

export interface Identity {
  kind: string;
  value: string;
}

export interface Customer {
  id: string;
  display_name?: string | null;
  identities: Identity[];
  tags?: string[];
  attributes?: Record<string, string>;
  created_at: string;
  merged_into?: string | null;
}

export interface TicketDetail {
  ticket: TicketView;
  customer: Customer | null;
  messages: Message[];
}

export interface FieldChange {
  field: string;
  before?: unknown;
  after?: unknown;
}

export interface HistoryEntry {
  ticket_id: string;
  at: string;
  cause: string;
  version: number;
  actor: { kind: string; id?: string | null; name?: string | null };
  changes: FieldChange[];
  reason?: string;
  event?: string | null;
  detail?: Record<string, unknown>;
  stages?: { before?: Stage | null; after?: Stage | null } | null;
}

export interface CustomerDetail {
  customer: Customer;
  tickets: TicketView[];
}

export interface ReplyTemplate {
  code: string;
  title: string;
  texts: Record<string, string>;
  tags?: string[];
  version: number;
}

export interface Rendered {
  code: string;
  version: number;
  language: string;
  text: string;
}
