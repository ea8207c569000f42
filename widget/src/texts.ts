// The widget's words in English and Chinese, chosen by the page's language, else the browser's.

export type Language = "en" | "zh";

const TEXTS = {
  en: {
    open: "Chat with us", close: "Close chat", title: "Chat with us", placeholder: "Write a message…",
    send: "Send", attach: "Attach a file", assistant: "Assistant", agent: "Support", helpful: "Did this help?",
    yes: "Yes", no: "No", person: "Talk to a person", handedOff: "A person will answer you here shortly.",
    thanksFeedback: "Thanks for telling us.", rate: "How would you rate our help?",
    rated: "Thank you! You rated us {score}/5.", help: "Help centre", sending: "Sending…", failed: "Not sent — retrying",
    offline: "Cannot reach us right now; we will keep trying.", tooFast: "Slow down a little, please.",
    uploadFailed: "The file could not be sent (images, PDF or text, up to 10 MB).", you: "You",
  },
  zh: {
    open: "在线咨询", close: "关闭对话", title: "在线咨询", placeholder: "输入消息…", send: "发送", attach: "添加附件",
    assistant: "智能助手", agent: "客服", helpful: "这个回答有帮助吗？", yes: "有", no: "没有", person: "转人工",
    handedOff: "人工客服稍后会在这里回复您。", thanksFeedback: "感谢您的反馈。", rate: "请为本次服务评分",
    rated: "谢谢！您的评分：{score}/5。", help: "帮助中心", sending: "发送中…", failed: "未发送，正在重试",
    offline: "暂时无法连接，我们会继续尝试。", tooFast: "发送太快了，请稍候。",
    uploadFailed: "文件无法发送（仅支持图片、PDF 或文本，最大 10 MB）。", you: "您",
  },
} as const;

export type Texts = { readonly [K in keyof typeof TEXTS.en]: string };

export function languageOf(preferred: string | undefined): Language {
  const candidates = [preferred, document.documentElement.lang, ...(navigator.languages ?? []), navigator.language];
  for (const candidate of candidates) {
    const code = (candidate ?? "").toLowerCase();
    if (code.startsWith("zh")) return "zh";
    if (code.startsWith("en")) return "en";
  }
  return "en";
}

export function textsFor(language: Language): Texts {
  return TEXTS[language];
}
