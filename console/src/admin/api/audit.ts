// The tenant's audit log, newest first, a page at a time.
import { api } from "../../api/client";
import type { AuditPage } from "./types";

export function auditPage(action: string, limit: number, cursor: string | null): Promise<AuditPage> {
  return api<AuditPage>("/v1/audit", { query: { action: action || undefined, limit, cursor } });
}
