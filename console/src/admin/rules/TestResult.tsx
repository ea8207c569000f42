// What the tester answered: the rules that would fire with their actions, the ones that
// would not and why (the first failing condition), the resulting change.
import { useT } from "../../i18n";
import type { RuleTestResult } from "../api/types";
import { adminMessages, type AdminKey } from "../messages";
import { describeStep } from "./steps";

export function TestResult({ result }: { result: RuleTestResult }) {
  const t = useT(adminMessages);
  const typeName = (type: string, prefix: "cond_" | "act_") => t(`${prefix}${type}` as AdminKey);
  return (
    <div className="admin-result" data-testid="tester-result">
      <div>
        <h3 className="admin-fired">{t("fired")} ({result.fired.length})</h3>
        {result.fired.length === 0 && <p className="admin-empty" data-testid="tester-none-fired">{t("noneFired")}</p>}
        <ul>
          {result.fired.map((match) => (
            <li key={match.rule_id} data-testid="tester-fired" data-rule-id={match.rule_id}>
              <strong>{match.name}</strong>
              <ul>
                {match.actions.map((action, index) => (
                  <li key={index}>{typeName(action.type, "act_")} <small>{describeStep(action)}</small></li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
        {Object.keys(result.patch).length > 0 && (
          <>
            <h3>{t("patch")}</h3>
            <pre className="admin-pre" data-testid="tester-patch">{JSON.stringify(result.patch, null, 2)}</pre>
          </>
        )}
        {result.side_effects.length > 0 && (
          <>
            <h3>{t("sideEffects")}</h3>
            <ul>
              {result.side_effects.map((effect, index) => (
                <li key={index}>{typeName(effect.action.type, "act_")} <small>{describeStep(effect.action)}</small></li>
              ))}
            </ul>
          </>
        )}
      </div>
      <div>
        <h3 className="admin-notfired">{t("notFired")} ({result.not_fired.length})</h3>
        <ul>
          {result.not_fired.map((miss) => (
            <li key={miss.rule_id} data-testid="tester-not-fired" data-rule-id={miss.rule_id} data-reason={miss.reason}>
              <strong>{miss.name}</strong>: {t(`reason_${miss.reason}` as AdminKey)}
              {miss.reason === "conditions" && miss.group === "any" && !miss.condition && <> — {t("noneOfAny")}</>}
              {miss.condition && (
                <div>
                  <small>
                    {t("failedAt", { group: miss.group === "any" ? t("anyOf") : t("allOf"), index: (miss.index ?? 0) + 1 })}{" "}
                    {typeName(miss.condition.type, "cond_")} {describeStep(miss.condition)}
                  </small>
                </div>
              )}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
