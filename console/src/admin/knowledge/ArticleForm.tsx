// Create or replace one article in one language: its id and language (fixed once created),
// the questions customers ask (one per line), the answer, and optionally the intent it answers.
import { useState, type FormEvent } from "react";
import { useT } from "../../i18n";
import { Field } from "../common/Field";
import { FormFooter } from "../common/FormFooter";
import { ListInput } from "../common/ListInput";
import { Modal } from "../common/Modal";
import { useAction } from "../common/useAction";
import { saveArticle } from "./api";
import { knowledgeMessages } from "./messages";
import type { Article } from "./types";

// the hub's own patterns (chalicelib/assistant/knowledge.py, switchboard_sdk.assistant)
export const ARTICLE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
export const INTENT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
export const LANGUAGE = /^[a-z]{2,3}$/;

interface Props {
  article: Article | null;
  language: string;
  intents: string[];
  onClose: () => void;
  onSaved: () => void;
}

export function ArticleForm({ article, language: defaultLanguage, intents, onClose, onSaved }: Props) {
  const t = useT(knowledgeMessages);
  const [articleId, setArticleId] = useState(article?.id ?? "");
  const [language, setLanguage] = useState(article?.language ?? (defaultLanguage || "en"));
  const [questions, setQuestions] = useState<string[]>(article?.questions ?? []);
  const [answer, setAnswer] = useState(article?.answer ?? "");
  const [intent, setIntent] = useState(article?.intent ?? "");
  const [tried, setTried] = useState(false);
  const problems = {
    id: ARTICLE_ID.test(articleId) ? null : t("badArticleId"),
    language: LANGUAGE.test(language) ? null : t("badLanguage"),
    questions: questions.length ? null : t("needQuestion"),
    answer: answer.trim() ? null : t("needAnswer"),
    intent: !intent.trim() || INTENT_NAME.test(intent.trim()) ? null : t("badIntent"),
  };
  const save = useAction(async () => {
    await saveArticle(articleId, language, { questions, answer: answer.trim(), intent: intent.trim() || null });
    onSaved();
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (!Object.values(problems).some(Boolean)) void save.run();
  }

  const shown = (problem: string | null) => (tried ? problem : null);
  return (
    <Modal title={article ? `${t("editArticle")}: ${article.id} (${article.language})` : t("newArticle")} onClose={onClose}
           wide testId="article-form">
      <form className="admin-form" onSubmit={submit} noValidate>
        <div className="admin-row">
          <Field label={t("articleId")} hint={t("articleIdHint")} problem={shown(problems.id)}>
            <input value={articleId} disabled={!!article} maxLength={64} data-testid="article-id" autoFocus={!article}
                   onChange={(event) => setArticleId(event.target.value.trim())} />
          </Field>
          <Field label={t("language")} problem={shown(problems.language)}>
            <input value={language} disabled={!!article} maxLength={3} list="knowledge-languages" style={{ maxWidth: 120 }}
                   data-testid="article-language" onChange={(event) => setLanguage(event.target.value.trim().toLowerCase())} />
          </Field>
        </div>
        <Field label={t("questions")} hint={t("questionsHint")} problem={shown(problems.questions)}>
          <ListInput value={questions} onChange={setQuestions} lines testId="article-questions" />
        </Field>
        <Field label={t("answer")} problem={shown(problems.answer)}>
          <textarea value={answer} rows={5} maxLength={4000} data-testid="article-answer"
                    onChange={(event) => setAnswer(event.target.value)} />
        </Field>
        <Field label={t("intent")} hint={t("intentHint")} problem={shown(problems.intent)}>
          <input value={intent} maxLength={64} list="knowledge-intents" data-testid="article-intent"
                 onChange={(event) => setIntent(event.target.value)} />
        </Field>
        <datalist id="knowledge-languages"><option value="en" /><option value="zh" /></datalist>
        <datalist id="knowledge-intents">{intents.map((name) => <option key={name} value={name} />)}</datalist>
        <FormFooter error={save.error} busy={save.busy} onClose={onClose} testId="article-save" submit={article ? "save" : "create"} />
      </form>
    </Modal>
  );
}
