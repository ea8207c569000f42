// Create or change a template: its short code (fixed once created), title, one text per
// language with variables inserted by click, tags; a saved one can be previewed for a ticket.
import { useRef, useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { createTemplate, replaceTemplate } from "../api/templates";
import type { ReplyTemplate } from "../api/types";
import { FormFooter } from "../common/FormFooter";
import { Field } from "../common/Field";
import { ListInput } from "../common/ListInput";
import { Modal } from "../common/Modal";
import { useAction } from "../common/useAction";
import { adminMessages } from "../messages";
import { TemplatePreview } from "./TemplatePreview";

const CODE = /^[a-z0-9][a-z0-9_.-]{0,39}$/;
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const VARIABLES = [
  "customer.name", "customer.email", "customer.phone", "customer.id", "ticket.ref", "ticket.id", "ticket.subject",
  "ticket.status", "ticket.priority", "ticket.category", "ticket.channel", "ticket.language", "agent.name",
];

interface Props {
  template: ReplyTemplate | null;
  onClose: () => void;
  onSaved: () => void;
}

interface Text {
  language: string;
  text: string;
}

export function TemplateForm({ template, onClose, onSaved }: Props) {
  const t = useT(adminMessages);
  const [code, setCode] = useState(template?.code ?? "");
  const [title, setTitle] = useState(template?.title ?? "");
  const [texts, setTexts] = useState<Text[]>(
    template ? Object.entries(template.texts).map(([language, text]) => ({ language, text })) : [{ language: "en", text: "" }, { language: "zh", text: "" }],
  );
  const [tags, setTags] = useState<string[]>(template?.tags ?? []);
  const [tried, setTried] = useState(false);
  const cursor = useRef<{ index: number; at: number }>({ index: 0, at: 0 });
  const filled = texts.filter((entry) => entry.text.trim());
  const languages = filled.map((entry) => entry.language.trim());
  const problems = {
    code: !CODE.test(code) || code === "import" || code === "export" ? t("badCode") : null,
    title: !title.trim() ? t("required") : null,
    texts: !filled.length ? t("needText")
      : languages.some((lang) => !LANGUAGE.test(lang)) || new Set(languages).size !== languages.length ? t("badLanguage") : null,
  };
  const save = useAction(async () => {
    const fields = { title: title.trim(), texts: Object.fromEntries(filled.map((entry) => [entry.language.trim(), entry.text])), tags };
    await (template ? replaceTemplate(template, fields) : createTemplate(code, fields));
    onSaved();
  });
  const setText = (index: number, patch: Partial<Text>) =>
    setTexts(texts.map((entry, at) => (at === index ? { ...entry, ...patch } : entry)));
  const remember = (index: number, element: HTMLTextAreaElement) => {
    cursor.current = { index, at: element.selectionStart };
  };

  function insert(variable: string) {
    const { index, at } = cursor.current;
    const entry = texts[index];
    if (!entry) return;
    const token = `{{${variable}}}`;
    setText(index, { text: entry.text.slice(0, at) + token + entry.text.slice(at) });
    cursor.current = { index, at: at + token.length };
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (!Object.values(problems).some(Boolean)) void save.run();
  }

  return (
    <Modal title={template ? `${t("editTemplate")}: /${template.code}` : t("newTemplate")} onClose={onClose} wide testId="template-form">
      <form className="admin-form" onSubmit={submit} noValidate>
        <div className="admin-row">
          <Field label={t("code")} hint={t("codeHint")} problem={tried ? problems.code : null}>
            <input value={code} disabled={!!template} maxLength={40} data-testid="template-code" autoFocus={!template}
                   onChange={(event) => setCode(event.target.value.toLowerCase())} />
          </Field>
          <Field label={t("name")} problem={tried ? problems.title : null}>
            <input value={title} maxLength={200} data-testid="template-title" onChange={(event) => setTitle(event.target.value)} />
          </Field>
        </div>
        <fieldset>
          <legend>{t("texts")}</legend>
          <div>
            <small className="hint">{t("variables")}: {t("variablesHint")}</small>
            <div className="admin-vars" data-testid="template-variables">
              {VARIABLES.map((variable) => (
                <button key={variable} type="button" onClick={() => insert(variable)}>{`{{${variable}}}`}</button>
              ))}
            </div>
          </div>
          {texts.map((entry, index) => (
            <div key={index} className="admin-row">
              <Field label={t("language")}>
                <input value={entry.language} style={{ maxWidth: 100 }} data-testid={`template-lang-${index}`}
                       onChange={(event) => setText(index, { language: event.target.value })} />
              </Field>
              <Field label={t("f_text")}>
                <textarea value={entry.text} maxLength={4000} rows={3} data-testid={`template-text-${index}`}
                          onChange={(event) => { setText(index, { text: event.target.value }); remember(index, event.target); }}
                          onSelect={(event) => remember(index, event.currentTarget)} />
              </Field>
              <button type="button" className="link" aria-label={t("remove")}
                      onClick={() => setTexts(texts.filter((_, at) => at !== index))}>✕</button>
            </div>
          ))}
          {tried && problems.texts && <small className="admin-error">{problems.texts}</small>}
          <div>
            <button type="button" className="admin-small" disabled={texts.length >= 8} data-testid="template-add-language"
                    onClick={() => setTexts([...texts, { language: "", text: "" }])}>+ {t("addLanguage")}</button>
          </div>
        </fieldset>
        <Field label={t("tags")} hint={t("commaHint")}>
          <ListInput value={tags} onChange={setTags} testId="template-tags" />
        </Field>
        <FormFooter error={save.error} busy={save.busy} onClose={onClose} testId="template-save" />
      </form>
      {template && <TemplatePreview code={template.code} languages={Object.keys(template.texts)} />}
    </Modal>
  );
}
