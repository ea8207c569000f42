// The knowledge base as a file: export (the import's JSON, fetched with the agent's token and
// saved) and import (a .json or .csv sent as it is, with its Content-Type).
import { useRef, useState } from "react";
import { useT } from "../../i18n";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import { useAction } from "../common/useAction";
import { exportKnowledge, importKnowledge } from "./api";
import { knowledgeMessages } from "./messages";
import type { ImportReport } from "./types";

function save(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  URL.revokeObjectURL(url);
}

function isCsv(file: File): boolean {
  return file.name.toLowerCase().endsWith(".csv") || file.type === "text/csv";
}

export function KnowledgeFile({ onImported }: { onImported: () => void }) {
  const t = useT(knowledgeMessages);
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [replace, setReplace] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const csv = file !== null && isCsv(file);
  const download = useAction(async () => {
    save("knowledge.json", JSON.stringify(await exportKnowledge(), null, 2), "application/json;charset=utf-8");
  });

  async function upload() {
    if (!file) return;
    setReport(await importKnowledge(await file.text(), isCsv(file), replace));
    setFile(null);
    if (input.current) input.current.value = "";
    onImported();
  }

  return (
    <div data-testid="knowledge-file">
      <div className="admin-toolbar">
        <button type="button" disabled={download.busy} data-testid="knowledge-export" onClick={() => void download.run()}>
          {download.busy ? t("working") : t("exportJson")}
        </button>
        <input ref={input} type="file" accept=".json,.csv,application/json,text/csv" data-testid="knowledge-import-file"
               aria-label={t("importFile")} aria-describedby="knowledge-import-hint"
               onChange={(event) => { setReport(null); setFile(event.target.files?.[0] ?? null); }} />
        {csv && (
          <label className="admin-check">
            <input type="checkbox" checked={replace} data-testid="knowledge-import-replace"
                   onChange={(event) => setReplace(event.target.checked)} />
            {t("importReplace")}
          </label>
        )}
        <ConfirmButton label={t("importFile")} danger={csv && replace} disabled={!file} testId="knowledge-import"
                       question={t("confirmImport", { file: file?.name ?? "" })} onConfirm={upload} />
        {report && (
          <span className="admin-ok" role="status" data-testid="knowledge-import-report">
            {t("importDone", { articles: report.articles, intents: report.intents, examples: report.examples, version: report.knowledge_version })}
          </span>
        )}
      </div>
      <small className="hint" id="knowledge-import-hint">{t("importHint")}</small>
      <ErrorBox error={download.error} />
    </div>
  );
}
