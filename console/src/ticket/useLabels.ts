import { useMemo } from "react";
import { useT } from "../i18n";
import { labelKey, labelMessages } from "./labels";

export interface Labels {
  status: (value: string) => string;
  priority: (value: string) => string;
  stage: (value: string | null | undefined) => string;
  channel: (value: string) => string;
  delivery: (value: string) => string;
  metric: (value: string) => string;
  sla: (value: string) => string;
  t: ReturnType<typeof useT<keyof (typeof labelMessages)["en"]>>;
}

/** The words for the hub's enums in the agent's language. */
export function useLabels(): Labels {
  const t = useT(labelMessages);
  return useMemo(() => {
    const of = (prefix: string) => (value: string | null | undefined) => {
      if (!value) return "—";
      const key = labelKey(prefix, value);
      return key ? t(key) : value;
    };
    return {
      status: of("status"), priority: of("priority"), stage: of("stage"), channel: of("channel"),
      delivery: of("delivery"), metric: of("metric"), sla: of("sla"), t,
    };
  }, [t]);
}
