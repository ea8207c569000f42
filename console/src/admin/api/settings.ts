// The tenant's name and settings (workflow and surveys are merged by the hub).
import { api } from "../../api/client";
import type { Tenant, TenantSettings } from "./types";

export function readSettings(): Promise<Tenant> {
  return api<Tenant>("/v1/settings");
}

export type SettingsChange = Partial<Omit<TenantSettings, "workflow" | "surveys">> & {
  name?: string;
  workflow?: Partial<TenantSettings["workflow"]>;
  surveys?: Partial<TenantSettings["surveys"]>;
};

export function updateSettings(change: SettingsChange): Promise<Tenant> {
  return api<Tenant>("/v1/settings", { method: "PATCH", body: change });
}
