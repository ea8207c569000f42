// Who tickets can be assigned to and which groups exist, read once per session. Listing
// agents may be refused (403) to an agent without the admin scope: then only "me" and
// "unassigned" can be chosen, and other assignees show by id.
import { useEffect, useMemo, useState } from "react";
import { ApiError, api } from "../api/client";
import type { AgentView } from "../api/types";
import { useMe } from "../auth/session";

export interface Group {
  id: string;
  name: string;
}

export interface Directory {
  agents: AgentView[];
  /** false: the hub refused the agent list; offer only me and unassigned */
  agentsListed: boolean;
  groups: Group[];
  agentName: (id: string | null | undefined) => string | null;
  groupName: (id: string | null | undefined) => string | null;
}

interface Loaded {
  agents: AgentView[] | null;
  groups: Group[];
}

let cache: Promise<Loaded> | null = null;

async function loadAgents(): Promise<AgentView[] | null> {
  try {
    return (await api<{ agents: AgentView[] }>("/v1/agents", { query: { status: "active" } })).agents;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return null;
    throw error;
  }
}

async function loadGroups(): Promise<Group[]> {
  try {
    return (await api<{ groups: Group[] }>("/v1/groups")).groups;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return [];
    throw error;
  }
}

function load(): Promise<Loaded> {
  cache ??= Promise.all([loadAgents(), loadGroups()])
    .then(([agents, groups]) => ({ agents, groups }))
    .catch((error: unknown) => {
      cache = null;
      throw error;
    });
  return cache;
}

export function useDirectory(): Directory {
  const me = useMe();
  const [loaded, setLoaded] = useState<Loaded>({ agents: null, groups: [] });
  useEffect(() => {
    let live = true;
    load().then((value) => live && setLoaded(value)).catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  return useMemo(() => {
    const agents = loaded.agents ?? [me.agent];
    const byId = new Map(agents.map((agent) => [agent.id, agent.name]));
    byId.set(me.agent.id, me.agent.name);
    const groups = new Map(loaded.groups.map((group) => [group.id, group.name]));
    return {
      agents,
      agentsListed: loaded.agents !== null,
      groups: loaded.groups,
      agentName: (id) => (id ? byId.get(id) ?? id : null),
      groupName: (id) => (id ? groups.get(id) ?? id : null),
    };
  }, [loaded, me.agent]);
}
