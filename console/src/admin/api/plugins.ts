// Channels and connectors: list with config schema, enable, disable, configure.
import { api } from "../../api/client";
import type { Plugin } from "./types";

const id = encodeURIComponent;

export async function listPlugins(): Promise<Plugin[]> {
  return (await api<{ plugins: Plugin[] }>("/v1/plugins")).plugins;
}

export interface PluginConfigBody {
  config?: Record<string, unknown> | null;
  max_delivery_attempts?: number | null;
}

export function enablePlugin(name: string, body: PluginConfigBody = {}): Promise<Plugin> {
  return api<Plugin>(`/v1/plugins/${id(name)}/enable`, { method: "POST", body });
}

export function disablePlugin(name: string): Promise<Plugin> {
  return api<Plugin>(`/v1/plugins/${id(name)}/disable`, { method: "POST", body: {} });
}

export function configurePlugin(name: string, body: PluginConfigBody): Promise<Plugin> {
  return api<Plugin>(`/v1/plugins/${id(name)}/config`, { method: "PUT", body });
}
