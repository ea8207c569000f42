// The agent's own inbox views, kept in their preferences (PUT /v1/me/preferences).
import { useCallback, useMemo } from "react";
import { api } from "../api/client";
import type { SavedView } from "../api/types";
import { useMe, useSession } from "../auth/session";
import type { Filters } from "./filters";

export const MAX_VIEWS = 20;

export interface SavedViews {
  views: SavedView[];
  save: (name: string, filters: Filters) => Promise<void>;
  remove: (id: string) => Promise<void>;
}

export function useSavedViews(): SavedViews {
  const me = useMe();
  const { reload } = useSession();
  // `preferences` is new in /v1/me: an older hub answers without it
  const views = useMemo(() => me.preferences?.views ?? [], [me.preferences]);

  const put = useCallback(async (next: SavedView[]) => {
    await api("/v1/me/preferences", { method: "PUT", body: { views: next } });
    await reload();
  }, [reload]);

  const save = useCallback(async (name: string, filters: Filters) => {
    const clean: Record<string, string> = {};
    for (const [key, value] of Object.entries(filters)) if (value) clean[key] = value;
    await put([...views, { id: `v_${crypto.randomUUID().slice(0, 12)}`, name: name.trim(), filters: clean }]);
  }, [put, views]);

  const remove = useCallback(async (id: string) => {
    await put(views.filter((view) => view.id !== id));
  }, [put, views]);

  return { views, save, remove };
}
