// Admin → Knowledge: the assistant's model, the knowledge base as a file, its FAQ articles and
// its intents. Every write bumps the knowledge version, so the model card is read again after it.
import { useCallback, useState } from "react";
import { useT } from "../../i18n";
import { useLoad } from "../common/useLoad";
import { listArticles, listIntents, modelStatus } from "./api";
import { ArticlesSection } from "./ArticlesSection";
import { IntentsSection } from "./IntentsSection";
import { KnowledgeFile } from "./KnowledgeFile";
import { knowledgeMessages } from "./messages";
import { ModelCard } from "./ModelCard";
import "./knowledge.css";

export default function KnowledgePage() {
  const t = useT(knowledgeMessages);
  const [language, setLanguage] = useState("");
  const model = useLoad(modelStatus);
  const intents = useLoad(listIntents);
  const articles = useLoad(useCallback(() => listArticles(language), [language]));
  const { reload: reloadModel } = model;
  const { reload: reloadIntents } = intents;
  const { reload: reloadArticles } = articles;
  const intentChanged = useCallback(() => {
    reloadIntents();
    reloadModel();
  }, [reloadIntents, reloadModel]);
  const imported = useCallback(() => {
    reloadArticles();
    intentChanged();
  }, [reloadArticles, intentChanged]);
  return (
    <section data-testid="admin-knowledge">
      <h1>{t("title")}</h1>
      <p className="hint">{t("intro")}</p>
      <ModelCard model={model} />
      <KnowledgeFile onImported={imported} />
      <ArticlesSection articles={articles} language={language} onLanguage={setLanguage}
                       intents={(intents.data ?? []).map((intent) => intent.name)} onChanged={reloadModel} />
      <IntentsSection intents={intents} onChanged={intentChanged} />
    </section>
  );
}
