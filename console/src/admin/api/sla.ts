// SLA policies and business-hours calendars (PUT and DELETE name the version read).
import { api } from "../../api/client";
import type { Calendar, CalendarFields, SlaPolicy, SlaPolicyFields } from "./types";

const id = encodeURIComponent;

export async function listPolicies(): Promise<SlaPolicy[]> {
  return (await api<{ policies: SlaPolicy[] }>("/v1/sla-policies")).policies;
}

export function savePolicy(fields: SlaPolicyFields, current?: SlaPolicy): Promise<SlaPolicy> {
  if (!current) return api<SlaPolicy>("/v1/sla-policies", { method: "POST", body: fields });
  return api<SlaPolicy>(`/v1/sla-policies/${id(current.id)}`, {
    method: "PUT", body: { ...fields, version: current.version },
  });
}

export function deletePolicy(policy: SlaPolicy): Promise<SlaPolicy> {
  return api<SlaPolicy>(`/v1/sla-policies/${id(policy.id)}`, { method: "DELETE", query: { version: policy.version } });
}

export async function listCalendars(): Promise<Calendar[]> {
  return (await api<{ calendars: Calendar[] }>("/v1/calendars")).calendars;
}

export function saveCalendar(fields: CalendarFields, current?: Calendar): Promise<Calendar> {
  if (!current) return api<Calendar>("/v1/calendars", { method: "POST", body: fields });
  return api<Calendar>(`/v1/calendars/${id(current.id)}`, {
    method: "PUT", body: { ...fields, version: current.version },
  });
}

export function deleteCalendar(calendar: Calendar): Promise<Calendar> {
  return api<Calendar>(`/v1/calendars/${id(calendar.id)}`, { method: "DELETE", query: { version: calendar.version } });
}
