// Create or replace an intent: its name (fixed once created), a description and its labelled
// examples, one customer message per line (an existing intent's are read first).
import { useCallback, useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { ErrorBox } from "../common/ErrorBox";
import { Field } from "../common/Field";
import { FormFooter } from "../common/FormFooter";
import { Modal } from "../common/Modal";
import { useAction } from "../common/useAction";
import { useLoad } from "../common/useLoad";
import { parseList } from "../common/ListInput";
import { readIntent, saveIntent } from "./api";
import { INTENT_NAME } from "./ArticleForm";
import { knowledgeMessages } from "./messages";
import type { Intent } from "./types";

interface Props {
  name: string | null;
  onClose: () => void;
  onSaved: () => void;
}

export function IntentForm({ name, onClose, onSaved }: Props) {
  const t = useT(knowledgeMessages);
  const load = useCallback((): Promise<Intent | null> => (name ? readIntent(name) : Promise.resolve(null)), [name]);
  const current = useLoad(load);
  const title = name ? `${t("editIntent")}: ${name}` : t("newIntent");
  return (
    <Modal title={title} onClose={onClose} wide testId="intent-form">
      {current.loading && !current.data && !current.error ? <p className="admin-empty">{t("loadingIntent")}</p>
        : current.error ? <ErrorBox error={current.error} />
          : <IntentFields intent={current.data ?? null} onClose={onClose} onSaved={onSaved} />}
    </Modal>
  );
}

function IntentFields({ intent, onClose, onSaved }: { intent: Intent | null; onClose: () => void; onSaved: () => void }) {
  const t = useT(knowledgeMessages);
  const [name, setName] = useState(intent?.name ?? "");
  const [description, setDescription] = useState(intent?.description ?? "");
  const [examples, setExamples] = useState((intent?.examples ?? []).join("\n"));
  const [tried, setTried] = useState(false);
  const lines = parseList(examples, true);
  const problem = INTENT_NAME.test(name) ? null : t("badIntent");
  const save = useAction(async () => {
    await saveIntent(name, { description: description.trim(), examples: lines });
    onSaved();
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (!problem) void save.run();
  }

  return (
    <form className="admin-form" onSubmit={submit} noValidate>
      <div className="admin-row">
        <Field label={t("intentName")} hint={t("intentNameHint")} problem={tried ? problem : null}>
          <input value={name} disabled={!!intent} maxLength={64} data-testid="intent-name" autoFocus={!intent}
                 onChange={(event) => setName(event.target.value.trim())} />
        </Field>
        <Field label={t("description")}>
          <input value={description} maxLength={500} data-testid="intent-description"
                 onChange={(event) => setDescription(event.target.value)} />
        </Field>
      </div>
      <Field label={`${t("examples")} (${lines.length})`} hint={t("examplesHint")}>
        <textarea value={examples} rows={12} data-testid="intent-examples" onChange={(event) => setExamples(event.target.value)} />
      </Field>
      <FormFooter error={save.error} busy={save.busy} onClose={onClose} testId="intent-save" submit={intent ? "save" : "create"} />
    </form>
  );
}
