import { useEffect, useRef } from "react";
import { useT } from "../i18n";
import { inboxMessages, type InboxKey } from "./messages";

const KEYS: [string[], InboxKey][] = [
  [["j", "↓"], "key_next"], [["k", "↑"], "key_prev"], [["Enter"], "key_open"],
  [["e", "Shift+R"], "key_resolve"], [["?"], "key_help"], [["Esc"], "key_close"],
];

/** The "?" overlay: a modal dialog listing the inbox's shortcuts. */
export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const t = useT(inboxMessages);
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);
  return (
    <div className="overlay" role="presentation" onClick={onClose}>
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="shortcut-title" data-testid="shortcut-help"
           onClick={(e) => e.stopPropagation()}>
        <h2 id="shortcut-title">{t("shortcutsTitle")}</h2>
        <dl className="shortcut-list">
          {KEYS.map(([keys, label]) => (
            <div key={label}>
              <dt>{keys.map((key) => <kbd key={key}>{key}</kbd>)}</dt>
              <dd>{t(label)}</dd>
            </div>
          ))}
        </dl>
        <button ref={close} type="button" onClick={onClose}>{t("close")}</button>
      </div>
    </div>
  );
}
