// Every saved version of a rule, newest first (GET /v1/rules/{id}/versions).
import { useCallback, useState } from "react";
import { useT } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { ruleVersions } from "../api/rules";
import type { Rule } from "../api/types";
import { ErrorBox } from "../common/ErrorBox";
import { Modal } from "../common/Modal";
import { useLoad } from "../common/useLoad";
import { adminMessages } from "../messages";
import { RuleVersionRow } from "./RuleVersionRow";

export function RuleVersions({ rule, onClose }: { rule: Rule; onClose: () => void }) {
  const t = useT(adminMessages);
  const time = useTimeFormat();
  const load = useCallback(() => ruleVersions(rule.id), [rule.id]);
  const versions = useLoad(load);
  const [open, setOpen] = useState<number | null>(null);
  return (
    <Modal title={t("versionsOf", { name: rule.name })} onClose={onClose} wide testId="rule-versions">
      <ErrorBox error={versions.error} />
      {versions.loading && <p className="admin-empty">{t("loading")}</p>}
      <table className="admin-table" data-testid="admin-table-versions">
        <thead>
          <tr><th>{t("version")}</th><th>{t("updated")}</th><th>{t("by")}</th><th>{t("name")}</th><th>{t("enabled")}</th><th /></tr>
        </thead>
        <tbody>
          {(versions.data ?? []).map(({ rule: version, deleted }) => (
            <RuleVersionRow key={version.version} version={version} deleted={Boolean(deleted)} when={time(version.updated_at)}
                        open={open === version.version} onToggle={() => setOpen(open === version.version ? null : version.version)} />
          ))}
        </tbody>
      </table>
    </Modal>
  );

}
