// Every word of the Knowledge page (articles, intents, import/export, the assistant's model), in English and Chinese.
import type { Messages } from "../../i18n";

const en = {
  title: "Knowledge base", intro: "FAQ articles the assistant answers with and intents with labelled example messages. Every change queues a new model for the assistant.",
  // articles
  articles: "FAQ articles", newArticle: "New article", editArticle: "Edit article", articleId: "Article id",
  articleIdHint: "Letters, digits and _ . - (e.g. reset-password). One article may have a version per language.",
  badArticleId: "Letters, digits and _ . - only, at most 64.", language: "Language", allLanguages: "All languages",
  badLanguage: "A two- or three-letter code such as en or zh.", questions: "Questions",
  questionsHint: "One per line: the ways customers ask it. The first is the article's title in the help centre.",
  needQuestion: "Give at least one question.", answer: "Answer", needAnswer: "Give the answer.",
  intent: "Intent", intentHint: "Optional: the intent this article answers (e.g. account.password).",
  badIntent: "Letters, digits and _ . : - only, at most 64.", questionCount: "{count} questions", noIntent: "—",
  // intents
  intentNameHint: "Letters, digits and _ . : - (e.g. card_arrival). A ticket the assistant hands off is filed under it as its category.",
  intents: "Intents", newIntent: "New intent", editIntent: "Edit intent", intentName: "Name", description: "Description",
  examples: "Examples", examplesHint: "One customer message per line.", exampleCount: "Examples",
  loadingIntent: "Loading the examples…",
  // file
  importFile: "Import file", importHint: "JSON ({\"articles\": [...], \"intents\": [...], \"replace\": false}) or CSV with columns text,category (intent examples) or id,language,question,answer[,intent] (articles).",
  confirmImport: "Import {file}? Articles and intents it names are created or replaced.",
  importDone: "Imported {articles} articles, {intents} intents, {examples} examples (knowledge version {version}).",
  exportJson: "Export JSON", importReplace: "Delete what the file leaves out",
  // model
  model: "Assistant model", assistant: "Assistant", noAssistant: "No assistant enabled", state: "State",
  state_none: "Not trained", state_queued: "Queued", state_training: "Training…", state_ready: "Ready", state_failed: "Failed",
  knowledgeVersion: "Knowledge version", modelVersion: "Model version", upToDate: "up to date", behind: "behind the knowledge",
  trainedAt: "Trained", threshold: "Confidence threshold", thresholdTrained: "{value} (trained {trained})",
  labels: "Labels", figures: "Figures", error: "Error", retrain: "Retrain", retrainQueued: "Training of knowledge version {version} queued.",
  refreshing: "Refreshing while it trains…",
  // common
  save: "Save", create: "Create", edit: "Edit", delete: "Delete", actions: "Actions", updated: "Updated",
  empty: "Nothing here yet.", loading: "Loading…", working: "Working…", required: "Required",
  confirmDelete: "Delete “{name}”? This cannot be undone.", reload: "Reload",
};

type Key = keyof typeof en;

export const knowledgeMessages: Messages<Key> = {
  en,
  zh: {
    title: "知识库", intro: "智能助手用来回答的常见问题文章，以及带标注示例消息的意图。每次修改都会排队训练新模型。",
    articles: "常见问题文章", newArticle: "新建文章", editArticle: "编辑文章", articleId: "文章 ID",
    articleIdHint: "字母、数字和 _ . -（如 reset-password）。同一文章可有多种语言版本。",
    badArticleId: "仅限字母、数字和 _ . -，最多 64 个字符。", language: "语言", allLanguages: "全部语言",
    badLanguage: "两到三个字母的语言代码，如 en 或 zh。", questions: "问题",
    questionsHint: "每行一个：客户的各种问法。第一行是帮助中心里的文章标题。", needQuestion: "至少填写一个问题。",
    answer: "答案", needAnswer: "请填写答案。", intent: "意图", intentHint: "可选：此文章回答的意图（如 account.password）。",
    badIntent: "仅限字母、数字和 _ . : -，最多 64 个字符。", questionCount: "{count} 个问题", noIntent: "—",
    intentNameHint: "字母、数字和 _ . : -（如 card_arrival）。智能助手转人工的工单以它作为分类。",
    intents: "意图", newIntent: "新建意图", editIntent: "编辑意图", intentName: "名称", description: "描述",
    examples: "示例", examplesHint: "每行一条客户消息。", exampleCount: "示例数", loadingIntent: "正在加载示例…",
    importFile: "导入文件",
    importHint: "JSON（{\"articles\": [...], \"intents\": [...], \"replace\": false}）或 CSV：列为 text,category（意图示例）或 id,language,question,answer[,intent]（文章）。",
    confirmImport: "导入 {file}？文件中的文章和意图将被创建或替换。",
    importDone: "已导入 {articles} 篇文章、{intents} 个意图、{examples} 条示例（知识库版本 {version}）。",
    exportJson: "导出 JSON", importReplace: "删除文件中没有的内容",
    model: "助手模型", assistant: "助手", noAssistant: "未启用助手", state: "状态",
    state_none: "未训练", state_queued: "排队中", state_training: "训练中…", state_ready: "就绪", state_failed: "失败",
    knowledgeVersion: "知识库版本", modelVersion: "模型版本", upToDate: "已是最新", behind: "落后于知识库",
    trainedAt: "训练时间", threshold: "置信度阈值", thresholdTrained: "{value}（训练所得 {trained}）",
    labels: "标签数", figures: "指标", error: "错误", retrain: "重新训练", retrainQueued: "已排队训练知识库版本 {version}。",
    refreshing: "训练期间自动刷新…",
    save: "保存", create: "创建", edit: "编辑", delete: "删除", actions: "操作", updated: "更新时间",
    empty: "暂无内容。", loading: "加载中…", working: "处理中…", required: "必填",
    confirmDelete: "删除“{name}”？此操作无法撤销。", reload: "刷新",
  },
};

export type KnowledgeKey = Key;
