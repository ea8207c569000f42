import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { CustomerDetail } from "./types";

/** The customer with all their tickets (GET /v1/customers/{id}); re-read when `stamp` changes. */
export function useCustomer(id: string | null | undefined, stamp: string | undefined): CustomerDetail | null {
  const [detail, setDetail] = useState<CustomerDetail | null>(null);
  useEffect(() => {
    if (!id) return undefined;
    const controller = new AbortController();
    api<CustomerDetail>(`/v1/customers/${encodeURIComponent(id)}`, { signal: controller.signal })
      .then(setDetail)
      .catch(() => undefined);
    return () => controller.abort();
  }, [id, stamp]);
  return detail && detail.customer.id === id ? detail : null;
}
