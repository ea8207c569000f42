// Copies a value to the clipboard and says so for a moment.
import { useState } from "react";
import { useT } from "../../i18n";
import { adminMessages } from "../messages";

export function CopyButton({ value, testId }: { value: string; testId?: string }) {
  const t = useT(adminMessages);
  const [copied, setCopied] = useState(false);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      const area = document.createElement("textarea");
      area.value = value;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    setCopied(true);
    window.setTimeout(() => setCopied(false), 1500);
  }

  return (
    <button type="button" className="admin-small" data-testid={testId ?? "copy"} onClick={() => void copy()}>
      {copied ? t("copied") : t("copy")}
    </button>
  );
}
