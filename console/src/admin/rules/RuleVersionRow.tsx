// One saved version of a rule, its JSON on demand.
import { useT } from "../../i18n";
import type { Rule } from "../api/types";
import { adminMessages } from "../messages";
import { bodyOfRule } from "./ruleBody";

interface Props {
  version: Rule;
  deleted: boolean;
  when: string;
  open: boolean;
  onToggle: () => void;
}

export function RuleVersionRow({ version, deleted, when, open, onToggle }: Props) {
  const t = useT(adminMessages);
  return (
    <>
      <tr data-testid="rule-version" className={deleted ? "muted" : undefined}>
        <td>v{version.version} {deleted && <span className="admin-badge off">{t("deletedVersion")}</span>}</td>
        <td>{when}</td>
        <td>{version.updated_by}</td>
        <td>{version.name}</td>
        <td>{version.enabled === false ? t("no") : t("yes")}</td>
        <td><button type="button" className="link" onClick={onToggle}>{t("json")}</button></td>
      </tr>
      {open && (
        <tr><td colSpan={6}><pre className="admin-pre">{JSON.stringify(bodyOfRule(version), null, 2)}</pre></td></tr>
      )}
    </>
  );
}
