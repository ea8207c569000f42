// The foot of every admin form: the hub's error, Cancel, and the submit button (busy while saving).
import { useT } from "../../i18n";
import { adminMessages } from "../messages";
import { ErrorBox } from "./ErrorBox";

interface Props {
  error: unknown;
  busy: boolean;
  onClose: () => void;
  testId: string;
  submit?: "save" | "create";
}

export function FormFooter({ error, busy, onClose, testId, submit = "save" }: Props) {
  const t = useT(adminMessages);
  return (
    <>
      <ErrorBox error={error} />
      <div className="admin-actions">
        <button type="button" onClick={onClose}>{t("cancel")}</button>
        <button type="submit" className="primary" disabled={busy} data-testid={testId}>
          {busy ? t("working") : t(submit)}
        </button>
      </div>
    </>
  );
}
