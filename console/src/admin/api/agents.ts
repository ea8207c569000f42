// Agents and groups: GET/POST /v1/agents, PATCH/DELETE /v1/agents/{id}, /v1/groups.
import { api } from "../../api/client";
import type { Agent, AgentCreated, AgentDraft, Assignment, Group, Role } from "./types";

const id = encodeURIComponent;

export async function listAgents(withRemoved: boolean): Promise<Agent[]> {
  const current = await api<{ agents: Agent[] }>("/v1/agents");
  if (!withRemoved) return current.agents;
  const removed = await api<{ agents: Agent[] }>("/v1/agents", { query: { status: "removed" } });
  return [...current.agents, ...removed.agents];
}

export function inviteAgent(draft: AgentDraft): Promise<AgentCreated> {
  return api<AgentCreated>("/v1/agents", { method: "POST", body: draft });
}

export interface AgentChange {
  name?: string;
  role?: Role;
  group_ids?: string[];
  capacity?: number;
  status?: "active" | "deactivated";
}

export function updateAgent(agentId: string, change: AgentChange): Promise<Agent> {
  return api<Agent>(`/v1/agents/${id(agentId)}`, { method: "PATCH", body: change });
}

export function removeAgent(agentId: string): Promise<Agent> {
  return api<Agent>(`/v1/agents/${id(agentId)}`, { method: "DELETE" });
}

export async function listGroups(): Promise<Group[]> {
  return (await api<{ groups: Group[] }>("/v1/groups")).groups;
}

export interface GroupDraft {
  name: string;
  description: string;
  assignment: Assignment;
}

export function createGroup(draft: GroupDraft): Promise<Group> {
  return api<Group>("/v1/groups", { method: "POST", body: draft });
}

export function updateGroup(groupId: string, draft: GroupDraft): Promise<Group> {
  return api<Group>(`/v1/groups/${id(groupId)}`, { method: "PATCH", body: draft });
}

export function deleteGroup(groupId: string): Promise<Group> {
  return api<Group>(`/v1/groups/${id(groupId)}`, { method: "DELETE" });
}
