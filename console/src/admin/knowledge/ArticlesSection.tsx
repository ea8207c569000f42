// The FAQ articles, one row per article and language, filtered by language; create, edit, delete.
import { useState } from "react";
import { useT } from "../../i18n";
import { useTimeFormat } from "../../i18n/time";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import type { Load } from "../common/useLoad";
import { deleteArticle } from "./api";
import { ArticleForm } from "./ArticleForm";
import { knowledgeMessages } from "./messages";
import type { Article } from "./types";

const LANGUAGES = ["en", "zh"];

interface Props {
  articles: Load<Article[]>;
  /** the filter ("": every language) */
  language: string;
  onLanguage: (language: string) => void;
  intents: string[];
  onChanged: () => void;
}

export function ArticlesSection({ articles, language, onLanguage, intents, onChanged }: Props) {
  const t = useT(knowledgeMessages);
  const time = useTimeFormat();
  const [editing, setEditing] = useState<Article | "new" | null>(null);
  const changed = () => {
    articles.reload();
    onChanged();
  };
  return (
    <section data-testid="knowledge-articles" aria-labelledby="knowledge-articles-title">
      <h2 id="knowledge-articles-title">{t("articles")}</h2>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="article-new" onClick={() => setEditing("new")}>{t("newArticle")}</button>
        <label className="admin-check">
          {t("language")}
          <select value={language} data-testid="article-language-filter" onChange={(event) => onLanguage(event.target.value)}>
            <option value="">{t("allLanguages")}</option>
            {LANGUAGES.map((code) => <option key={code} value={code}>{code}</option>)}
          </select>
        </label>
      </div>
      <ErrorBox error={articles.error} />
      <table className="admin-table" data-testid="admin-table">
        <thead>
          <tr>
            <th>{t("articleId")}</th><th>{t("language")}</th><th>{t("questions")}</th><th>{t("intent")}</th>
            <th>{t("updated")}</th><th>{t("actions")}</th>
          </tr>
        </thead>
        <tbody>
          {(articles.data ?? []).map((article) => (
            <tr key={`${article.id}/${article.language}`} data-testid="article-row" data-article-id={article.id}
                data-language={article.language}>
              <td><code>{article.id}</code></td>
              <td>{article.language}</td>
              <td>
                {article.questions[0]}
                {article.questions.length > 1 && <><br /><small className="hint">{t("questionCount", { count: article.questions.length })}</small></>}
              </td>
              <td>{article.intent ? <code>{article.intent}</code> : t("noIntent")}</td>
              <td>{time(article.updated_at)}</td>
              <td className="actions">
                <button type="button" data-testid="article-edit" onClick={() => setEditing(article)}>{t("edit")}</button>
                <ConfirmButton label={t("delete")} testId="article-delete"
                               question={t("confirmDelete", { name: `${article.id} (${article.language})` })}
                               onConfirm={() => deleteArticle(article)} onDone={changed} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {articles.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}
      {editing && (
        <ArticleForm article={editing === "new" ? null : editing} language={language} intents={intents}
                     onClose={() => setEditing(null)} onSaved={() => { setEditing(null); changed(); }} />
      )}
    </section>
  );
}
