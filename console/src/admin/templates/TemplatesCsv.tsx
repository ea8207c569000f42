// Templates as a spreadsheet: export (fetched with the agent's token, saved as a file) and
// import (all or nothing; "replace" also deletes what the file leaves out).
import { useRef, useState } from "react";
import { useT } from "../../i18n";
import { exportTemplates, importTemplates, type ImportReport } from "../api/templates";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import { useAction } from "../common/useAction";
import { adminMessages } from "../messages";

export function TemplatesCsv({ onImported }: { onImported: () => void }) {
  const t = useT(adminMessages);
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [replace, setReplace] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const download = useAction(async () => {
    const csv = await exportTemplates();
    const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "templates.csv";
    link.click();
    URL.revokeObjectURL(url);
  });

  async function upload() {
    if (!file) return;
    setReport(await importTemplates(await file.text(), replace));
    setFile(null);
    if (input.current) input.current.value = "";
    onImported();
  }

  return (
    <div className="admin-toolbar" data-testid="templates-csv">
      <button type="button" disabled={download.busy} data-testid="templates-export" onClick={() => void download.run()}>
        {download.busy ? t("working") : t("exportCsv")}
      </button>
      <input ref={input} type="file" accept=".csv,text/csv" data-testid="templates-import-file"
             onChange={(event) => { setReport(null); setFile(event.target.files?.[0] ?? null); }} />
      <label className="admin-check">
        <input type="checkbox" checked={replace} onChange={(event) => setReplace(event.target.checked)} />
        {t("importReplace")}
      </label>
      <ConfirmButton label={t("importCsv")} danger={replace} disabled={!file} testId="templates-import"
                     question={t("confirmImport", { file: file?.name ?? "" })} onConfirm={upload} />
      <ErrorBox error={download.error} />
      {report && (
        <span className="admin-ok" data-testid="templates-import-report">
          {t("importDone", {
            created: report.created.length, updated: report.updated.length, deleted: report.deleted.length, unchanged: report.unchanged,
          })}
        </span>
      )}
    </div>
  );
}
