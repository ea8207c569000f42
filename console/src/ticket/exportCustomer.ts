import { api } from "../api/client";

/** One page of GET /v1/customers/{id}/export (admins only; every page is a `pii.export` audit record). */
interface ExportPage {
  format: string;
  customer: { id: string } & Record<string, unknown>;
  tickets: unknown[];
  total_tickets: number;
  next_cursor: string | null;
}

/** The customer's whole export (their profile, every ticket with its messages), page after page. */
export async function customerExport(customerId: string): Promise<ExportPage> {
  const path = `/v1/customers/${encodeURIComponent(customerId)}/export`;
  let page = await api<ExportPage>(path);
  const tickets = [...page.tickets];
  while (page.next_cursor) {
    page = await api<ExportPage>(path, { query: { cursor: page.next_cursor } });
    tickets.push(...page.tickets);
  }
  return { ...page, tickets, next_cursor: null };
}

/** Hand `data` to the browser as a JSON file named `filename`. */
export function download(data: unknown, filename: string): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000); // once the browser has the file
}
