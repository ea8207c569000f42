// A write-only secret: "set" or "not set" (never the value); a new value is typed only to
// replace it. A field that keeps a secret being rotated out is shown, not edited.
import { useT } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { adminMessages } from "../messages";
import { isMarker } from "./schema";

interface Props {
  name: string;
  stored: unknown;
  typed: string;
  readOnly: boolean;
  onChange: (typed: string) => void;
}

export function SecretField({ name, stored, typed, readOnly, onChange }: Props) {
  const t = useT(adminMessages);
  const time = useTimeFormat();
  const set = isMarker(stored);
  return (
    <span className="admin-secret" data-testid={`secret-${name}`} data-set={set ? "true" : "false"}>
      <span className={`admin-badge ${set ? "on" : ""}`} data-testid="secret-state">
        {set ? t("secretSet") : t("secretNotSet")}
        {set && stored.grace_until && ` · ${t("secretGrace", { time: time(stored.grace_until) })}`}
      </span>
      {!readOnly && (
        <input type="password" value={typed} autoComplete="new-password" placeholder={t("newSecretPlaceholder")}
               data-testid={`config-${name}`} onChange={(event) => onChange(event.target.value)} />
      )}
    </span>
  );
}
