// A destructive action behind a confirmation dialog; busy while it runs, the hub's
// error shown in the dialog if it fails.
import { useState } from "react";
import { useT } from "../../i18n";
import { adminMessages } from "../messages";
import { ErrorBox } from "./ErrorBox";
import { Modal } from "./Modal";
import { useAction } from "./useAction";

interface Props {
  label: string;
  question: string;
  onConfirm: () => Promise<unknown>;
  onDone?: () => void;
  testId?: string;
  danger?: boolean;
  disabled?: boolean;
}

export function ConfirmButton({ label, question, onConfirm, onDone, testId, danger = true, disabled }: Props) {
  const t = useT(adminMessages);
  const [open, setOpen] = useState(false);
  const action = useAction(onConfirm);

  async function confirm() {
    if (await action.run()) {
      setOpen(false);
      onDone?.();
    }
  }

  return (
    <>
      <button type="button" className={danger ? "admin-danger" : undefined} data-testid={testId}
              disabled={disabled} onClick={() => { action.clear(); setOpen(true); }}>
        {label}
      </button>
      {open && (
        <Modal title={label} onClose={() => !action.busy && setOpen(false)} testId="confirm-dialog">
          <p>{question}</p>
          <ErrorBox error={action.error} />
          <div className="admin-actions">
            <button type="button" onClick={() => setOpen(false)} disabled={action.busy}>{t("cancel")}</button>
            <button type="button" className={danger ? "admin-danger solid" : "primary"} data-testid="confirm-yes"
                    disabled={action.busy} onClick={() => void confirm()}>
              {action.busy ? t("working") : label}
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}
