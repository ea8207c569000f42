// A list of write-only secrets (e.g. the web channel's signing secrets): the ones stored,
// each removable, and new ones typed; new ones go first (the current secret leads).
import { useT } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { adminMessages } from "../messages";
import type { SecretList } from "./configDraft";

interface Props {
  name: string;
  value: SecretList;
  max: number;
  onChange: (value: SecretList) => void;
}

export function SecretListField({ name, value, max, onChange }: Props) {
  const t = useT(adminMessages);
  const time = useTimeFormat();
  const count = value.kept.length + value.added.length;
  return (
    <div className="admin-form" data-testid={`secret-list-${name}`}>
      {value.kept.map((marker, index) => (
        <span key={marker.id ?? index} className="admin-secret" data-testid="secret-kept">
          <span className="admin-badge on">
            {t("secretSet")} {marker.id && <code>#{marker.id.slice(0, 6)}</code>} {marker.updated_at && time(marker.updated_at)}
            {marker.grace_until && ` · ${t("secretGrace", { time: time(marker.grace_until) })}`}
          </span>
          <button type="button" className="admin-small admin-danger"
                  onClick={() => onChange({ ...value, kept: value.kept.filter((_, at) => at !== index) })}>{t("remove")}</button>
        </span>
      ))}
      {value.added.map((typed, index) => (
        <span key={`new${index}`} className="admin-secret">
          <input type="password" value={typed} autoComplete="new-password" placeholder={t("newSecretPlaceholder")}
                 data-testid={`config-${name}-new-${index}`}
                 onChange={(event) => onChange({ ...value, added: value.added.map((old, at) => (at === index ? event.target.value : old)) })} />
          <button type="button" className="link" aria-label={t("remove")}
                  onClick={() => onChange({ ...value, added: value.added.filter((_, at) => at !== index) })}>✕</button>
        </span>
      ))}
      {count === 0 && <span className="admin-badge">{t("secretNotSet")}</span>}
      <div>
        <button type="button" className="admin-small" disabled={count >= max} data-testid={`config-${name}-add`}
                onClick={() => onChange({ ...value, added: [...value.added, ""] })}>+ {t("addSecret")}</button>
      </div>
    </div>
  );
}
