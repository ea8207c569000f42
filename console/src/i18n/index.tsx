// Chinese and English: each feature folder keeps its own messages ({en, zh}) next to
// its code; the agent's choice wins, else the tenant's language, else the browser's.
import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from "react";

export type Locale = "en" | "zh";
export type Messages<K extends string> = Record<Locale, Record<K, string>>;

interface LocaleState {
  locale: Locale;
  timeZone: string;
  setLocale: (locale: Locale) => void;
}

const LocaleContext = createContext<LocaleState>({ locale: "en", timeZone: "UTC", setLocale: () => undefined });

export function LocaleProvider(props: LocaleState & { children: ReactNode }) {
  const { locale, timeZone, setLocale, children } = props;
  const value = useMemo(() => ({ locale, timeZone, setLocale }), [locale, timeZone, setLocale]);
  // browsers choose CJK glyphs (and screen readers a voice) by the document's language
  useEffect(() => {
    document.documentElement.lang = locale === "zh" ? "zh-CN" : "en";
  }, [locale]);
  return <LocaleContext.Provider value={value}>{children}</LocaleContext.Provider>;
}

export function useLocale(): LocaleState {
  return useContext(LocaleContext);
}

export function browserLocale(): Locale {
  return navigator.language.toLowerCase().startsWith("zh") ? "zh" : "en";
}

/** `t("key", {name: "x"})` in the agent's language; `{name}` placeholders filled in. */
export function useT<K extends string>(messages: Messages<K>): (key: K, vars?: Record<string, string | number>) => string {
  const { locale } = useLocale();
  return useCallback(
    (key: K, vars?: Record<string, string | number>) => {
      const text = messages[locale][key] ?? messages.en[key] ?? key;
      return vars ? text.replace(/\{(\w+)\}/g, (whole, name: string) => String(vars[name] ?? whole)) : text;
    },
    [messages, locale],
  );
}
