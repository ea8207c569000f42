// Tokens as a browser app should keep them: the ID token in memory only; the refresh
// token in sessionStorage (this tab, gone when it closes) so a reload stays signed in.
// Neither ever goes into a URL.
import { anonymous } from "../api/client";

export interface Tokens {
  id_token: string;
  refresh_token?: string;
  expires_in: number;
}

export interface PasswordChallenge {
  challenge: "NEW_PASSWORD_REQUIRED";
  session: string;
}

const REFRESH_KEY = "switchboard.refresh";
let idToken: string | null = null;
let expiresAt = 0;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

export function currentToken(): string | null {
  return idToken;
}

export function hasRefreshToken(): boolean {
  return sessionStorage.getItem(REFRESH_KEY) !== null;
}

export function onSignedOut(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function signalSignedOut(): void {
  idToken = null;
  sessionStorage.removeItem(REFRESH_KEY);
  listeners.forEach((listener) => listener());
}

export function keep(tokens: Tokens): void {
  idToken = tokens.id_token;
  expiresAt = Date.now() + tokens.expires_in * 1000;
  if (tokens.refresh_token) sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
}

/** A new ID token from the refresh token; several callers share one refresh. */
export function refreshSession(): Promise<boolean> {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  if (!refreshToken) return Promise.resolve(false);
  refreshing ??= anonymous<Tokens>("/v1/session/refresh", { refresh_token: refreshToken })
    .then((tokens) => {
      keep(tokens);
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Refresh a minute before the ID token expires, so polling never meets a 401. */
export function scheduleRefresh(): () => void {
  const timer = window.setInterval(() => {
    if (idToken && Date.now() > expiresAt - 60_000) void refreshSession();
  }, 15_000);
  return () => window.clearInterval(timer);
}

export async function signIn(email: string, password: string): Promise<Tokens | PasswordChallenge> {
  const answer = await anonymous<Tokens | PasswordChallenge>("/v1/session", { email, password });
  if ("id_token" in answer) keep(answer);
  return answer;
}

export async function setNewPassword(email: string, session: string, newPassword: string): Promise<Tokens> {
  const tokens = await anonymous<Tokens>("/v1/session/password", { email, session, new_password: newPassword });
  keep(tokens);
  return tokens;
}
