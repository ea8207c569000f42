// The tenant's API keys: the secret is answered once, at creation.
import { api } from "../../api/client";
import type { ApiKey, KeyCreated, Scope } from "./types";

export async function listKeys(): Promise<ApiKey[]> {
  return (await api<{ keys: ApiKey[] }>("/v1/keys")).keys;
}

export function createKey(name: string, scopes: Scope[], expiresAt: string | null): Promise<KeyCreated> {
  return api<KeyCreated>("/v1/keys", { method: "POST", body: { name, scopes, expires_at: expiresAt } });
}

export function revokeKey(keyId: string): Promise<ApiKey> {
  return api<ApiKey>(`/v1/keys/${encodeURIComponent(keyId)}`, { method: "DELETE" });
}
