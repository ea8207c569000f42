// Names of customers other than the ticket's own (messages merged in from another
// customer's ticket): read once per customer (GET /v1/customers/{id}) and kept for the
// session, a few at a time. Inbox rows need none of this: the list names its customers.
import { useEffect, useState } from "react";
import { api } from "../api/client";

interface CustomerAnswer {
  customer: { id: string; display_name?: string | null; identities?: { kind: string; value: string }[] };
}

const names = new Map<string, string>();
const pending = new Set<string>();
const PARALLEL = 4;

function nameOf(answer: CustomerAnswer): string {
  const customer = answer.customer;
  return customer.display_name || customer.identities?.[0]?.value || customer.id;
}

async function fetchNames(ids: string[], onName: () => void): Promise<void> {
  const queue = ids.filter((id) => !names.has(id) && !pending.has(id));
  queue.forEach((id) => pending.add(id));
  async function worker() {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        names.set(id, nameOf(await api<CustomerAnswer>(`/v1/customers/${encodeURIComponent(id)}`)));
        onName();
      } catch {
        // an erased or unreadable customer keeps showing its id
      } finally {
        pending.delete(id);
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/** A lookup of the names known so far; re-renders as more arrive. */
export function useCustomerNames(ids: string[]): (id: string) => string | null {
  const [, setVersion] = useState(0);
  const wanted = ids.join(",");
  useEffect(() => {
    let live = true;
    const list = wanted ? wanted.split(",") : [];
    void fetchNames(list, () => live && setVersion((value) => value + 1));
    return () => {
      live = false;
    };
  }, [wanted]);
  return (id: string) => names.get(id) ?? null;
}
