// Who is signed in: /v1/me read once after sign-in (and after a reload, via the refresh
// token); the language and time zone every page uses come from it.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api } from "../api/client";
import type { Me } from "../api/types";
import { browserLocale, LocaleProvider, type Locale } from "../i18n";
import { hasRefreshToken, onSignedOut, refreshSession, scheduleRefresh, signalSignedOut } from "./tokens";

interface SessionState {
  me: Me | null;
  loading: boolean;
  /** Read /v1/me again (after sign-in, or after the agent changed their preferences). */
  reload: () => Promise<void>;
  signOut: () => void;
  can: (scope: string) => boolean;
}

const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error("useSession outside SessionProvider");
  return state;
}

/** The signed-in agent; pages under the shell only render once there is one. */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error("useMe before sign-in");
  return me;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(hasRefreshToken());
  const [chosen, setChosen] = useState<Locale | null>(null);

  const reload = useCallback(async () => {
    setMe(await api<Me>("/v1/me"));
  }, []);

  useEffect(() => onSignedOut(() => setMe(null)), []);
  useEffect(() => scheduleRefresh(), []);
  useEffect(() => {
    if (!hasRefreshToken()) return;
    void refreshSession()
      .then((ok) => (ok ? reload() : undefined))
      .catch(() => undefined)
      .finally(() => setLoading(false));
  }, [reload]);

  const signOut = useCallback(() => signalSignedOut(), []);
  const can = useCallback((scope: string) => me?.scopes.includes(scope) ?? false, [me]);
  const locale: Locale = chosen ?? me?.preferences.language ?? me?.tenant.language ?? browserLocale();
  const timeZone = me?.tenant.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;

  return (
    <SessionContext.Provider value={{ me, loading, reload, signOut, can }}>
      <LocaleProvider locale={locale} timeZone={timeZone} setLocale={setChosen}>
        {children}
      </LocaleProvider>
    </SessionContext.Provider>
  );
}
