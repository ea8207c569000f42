import type { Messages } from "../i18n";

type Key =
  | "back" | "loading" | "notFound" | "loadError" | "retry" | "timeline" | "noTimeline" | "customerWrote" | "agent"
  | "system" | "note" | "internalNote" | "via" | "call" | "voicemail" | "transcript" | "missedCall" | "callDuration"
  | "deliveryFailure" | "attachment" | "recording" | "retryMessage" | "retrying" | "retryFailed"
  | "reply" | "replyPlaceholder" | "notePlaceholder" | "send" | "addNote" | "sending" | "sendFailed" | "noteToggle"
  | "templateHint" | "templates" | "noTemplates" | "inserting" | "templateFailed" | "sendHint"
  | "properties" | "status" | "priority" | "assignee" | "group" | "noGroup" | "tags" | "addTag" | "removeTag"
  | "category" | "categoryPlaceholder" | "saveCategory" | "saving" | "saved" | "conflict" | "changeFailed"
  | "assigneeLimited" | "me"
  | "merge" | "mergeTitle" | "mergeInto" | "mergeTargetPlaceholder" | "mergeReason" | "mergeConfirm" | "cancel"
  | "mergeExplain" | "mergeDone" | "mergeFailed" | "mergeSuggestions" | "mergedNotice"
  | "customer" | "identities" | "attributes" | "otherTickets" | "noOtherTickets" | "noCustomer" | "customerSince"
  | "exportData" | "exporting" | "exportFailed" | "exportHint"
  | "sla" | "slaNone" | "slaDue" | "slaRemaining" | "businessHours"
  | "ev_status" | "ev_priority" | "ev_assigned" | "ev_unassigned" | "ev_group" | "ev_category" | "ev_language"
  | "ev_tags_added" | "ev_tags_removed" | "ev_sla_policy" | "ev_stage" | "ev_field"
  | "ev_sla_warning" | "ev_sla_breached" | "ev_merged" | "ev_merged_in" | "ev_survey_sent" | "ev_survey_not_sent"
  | "allConversations" | "fromTicket"
  | "ev_csat" | "ev_csat_comment" | "ev_other" | "by" | "created" | "lastActivity" | "followUpOf" | "mergedInto"
  | "assistant" | "assistantReply" | "as_answered" | "as_answered_plain" | "as_unsure" | "as_handed_off"
  | "as_handed_off_plain" | "as_feedback_yes" | "as_feedback_no" | "as_other" | "as_intent" | "as_below"
  | "as_reason_person" | "as_reason_unhelpful" | "as_reason_unsure" | "as_reason_no_answer" | "as_reason_visitor"
  | "as_reason_no_model" | "as_reason_unavailable" | "as_sep" | "categoryChip";

export const ticketMessages: Messages<Key> = {
  en: {
    back: "← Inbox", loading: "Loading…", notFound: "This ticket does not exist or you may not see it.",
    loadError: "Could not load the ticket: {message}", retry: "Retry", timeline: "Conversation and history",
    noTimeline: "Nothing here yet.", customerWrote: "Customer", agent: "Agent", system: "System", note: "Note",
    internalNote: "Internal note", via: "via {channel}", call: "Phone call", voicemail: "Voicemail",
    transcript: "Transcript", missedCall: "Missed call", callDuration: "{duration}",
    deliveryFailure: "Delivery failure", attachment: "Attachment", recording: "Recording",
    retryMessage: "Retry", retrying: "Retrying…", retryFailed: "Retry failed: {message}",
    reply: "Reply", replyPlaceholder: "Reply to the customer… type / and a template's code to insert it",
    notePlaceholder: "Internal note: only agents see it", send: "Send", addNote: "Add note", sending: "Sending…",
    sendFailed: "Not sent: {message}", noteToggle: "Internal note",
    templateHint: "/ + code inserts a template", templates: "Templates", noTemplates: "No template matches “{query}”.",
    inserting: "Filling in the template…", templateFailed: "Could not insert the template: {message}",
    sendHint: "Ctrl+Enter sends",
    properties: "Properties", status: "Status", priority: "Priority", assignee: "Assignee", group: "Group",
    noGroup: "No group", tags: "Tags", addTag: "Add a tag", removeTag: "Remove tag {tag}", category: "Category",
    categoryPlaceholder: "e.g. billing", saveCategory: "Save category", saving: "Saving…", saved: "Saved",
    conflict: "Someone changed this ticket meanwhile: it has been reloaded. Check it and make your change again.",
    changeFailed: "Not changed: {message}",
    assigneeLimited: "Only tenant admins can list agents: you can assign to yourself or unassign.", me: "Me ({name})",
    merge: "Merge…", mergeTitle: "Merge this ticket into another", mergeInto: "Ticket to merge into",
    mergeTargetPlaceholder: "tkt_…", mergeReason: "Reason (optional)", mergeConfirm: "Merge", cancel: "Cancel",
    mergeExplain: "Its messages move to the other ticket and this one becomes merged. This cannot be undone.",
    mergeDone: "Merged into {id}", mergeFailed: "Not merged: {message}",
    mergeSuggestions: "This customer's open tickets", mergedNotice: "This ticket was merged into {id}.",
    customer: "Customer", identities: "Contact", attributes: "Attributes", otherTickets: "Other tickets",
    noOtherTickets: "No other tickets.", noCustomer: "No customer on record.", customerSince: "Customer since {date}",
    exportData: "Export personal data", exporting: "Exporting…", exportFailed: "Export failed: {message}",
    exportHint: "Everything stored about this customer, as a JSON file (recorded in the audit log).",
    sla: "SLA", slaNone: "No running SLA targets.", slaDue: "due {time}", slaRemaining: "{duration} left (paused)",
    businessHours: "business hours",
    ev_status: "Status {before} → {after}", ev_priority: "Priority {before} → {after}", ev_assigned: "Assigned to {name}",
    ev_unassigned: "Unassigned", ev_group: "Group {before} → {after}", ev_category: "Category {before} → {after}",
    ev_language: "Language {before} → {after}", ev_tags_added: "Tagged {tags}", ev_tags_removed: "Untagged {tags}",
    ev_sla_policy: "SLA policy {before} → {after}", ev_stage: "Stage {before} → {after}", ev_field: "{field} {before} → {after}",
    allConversations: "Show this customer's other conversations too ({count})", fromTicket: "ticket {id}",
    ev_sla_warning: "SLA at risk: {metric}", ev_sla_breached: "SLA breached: {metric}", ev_merged: "Merged into {id}",
    ev_merged_in: "Ticket {id} merged into this one", ev_survey_sent: "Satisfaction survey sent",
    ev_survey_not_sent: "Satisfaction survey not sent", ev_csat: "Customer rated {score}/5",
    ev_csat_comment: "“{comment}”", ev_other: "Updated", by: "by {name}", created: "Created {time}",
    lastActivity: "Last activity {time}", followUpOf: "Follow-up of {id}", mergedInto: "Merged into {id}",
    assistant: "Assistant", assistantReply: "Automatic answer",
    as_answered: "Assistant answered with “{article}” ({facts})", as_answered_plain: "Assistant answered ({facts})",
    as_unsure: "Assistant was not sure ({facts})", as_handed_off: "Assistant handed off: {reason} ({facts})",
    as_handed_off_plain: "Assistant handed off: {reason}", as_feedback_yes: "The customer said the assistant's answer helped",
    as_feedback_no: "The customer said the assistant's answer did not help", as_other: "Assistant: {event}",
    as_intent: "intent {intent}", as_below: "{confidence}, below {threshold}",
    as_reason_person: "asked for a person", as_reason_unhelpful: "two unhelpful answers in a row",
    as_reason_unsure: "not confident enough", as_reason_no_answer: "no article answers it",
    as_reason_visitor: "the visitor pressed “Talk to a person”", as_reason_no_model: "no trained model",
    as_reason_unavailable: "the assistant was unavailable", as_sep: ", ", categoryChip: "Category: {category}",
  },
  zh: {
    back: "← 收件箱", loading: "加载中…", notFound: "该工单不存在或您无权查看。", loadError: "无法加载工单：{message}",
    retry: "重试", timeline: "会话与历史", noTimeline: "暂无内容。", customerWrote: "客户", agent: "客服", system: "系统",
    note: "备注", internalNote: "内部备注", via: "来自{channel}", call: "电话", voicemail: "语音留言", transcript: "转写文本",
    missedCall: "未接来电", callDuration: "{duration}", deliveryFailure: "投递失败", attachment: "附件", recording: "录音",
    retryMessage: "重试", retrying: "重试中…", retryFailed: "重试失败：{message}",
    reply: "回复", replyPlaceholder: "回复客户… 输入 / 加模板代码插入模板", notePlaceholder: "内部备注：仅客服可见",
    send: "发送", addNote: "添加备注", sending: "发送中…", sendFailed: "未发送：{message}", noteToggle: "内部备注",
    templateHint: "/ + 代码 插入模板", templates: "模板", noTemplates: "没有与“{query}”匹配的模板。",
    inserting: "正在填充模板…", templateFailed: "无法插入模板：{message}", sendHint: "Ctrl+Enter 发送",
    properties: "属性", status: "状态", priority: "优先级", assignee: "处理人", group: "小组", noGroup: "无小组",
    tags: "标签", addTag: "添加标签", removeTag: "移除标签 {tag}", category: "分类", categoryPlaceholder: "例如 账单",
    saveCategory: "保存分类", saving: "保存中…", saved: "已保存",
    conflict: "该工单已被他人修改，已重新加载。请检查后再次修改。", changeFailed: "未修改：{message}",
    assigneeLimited: "只有租户管理员可以列出客服：您可以分配给自己或取消分配。", me: "我（{name}）",
    merge: "合并…", mergeTitle: "将此工单合并到另一个工单", mergeInto: "合并到的工单", mergeTargetPlaceholder: "tkt_…",
    mergeReason: "原因（可选）", mergeConfirm: "合并", cancel: "取消",
    mergeExplain: "其消息将移至另一个工单，此工单将变为已合并。此操作无法撤销。", mergeDone: "已合并到 {id}",
    mergeFailed: "未合并：{message}", mergeSuggestions: "该客户的未关闭工单", mergedNotice: "此工单已合并到 {id}。",
    customer: "客户", identities: "联系方式", attributes: "属性", otherTickets: "其他工单", noOtherTickets: "没有其他工单。",
    noCustomer: "没有客户记录。", customerSince: "{date} 起成为客户",
    exportData: "导出个人数据", exporting: "正在导出…", exportFailed: "导出失败：{message}",
    exportHint: "该客户的全部存储数据，导出为 JSON 文件（记入审计日志）。",
    sla: "SLA", slaNone: "没有进行中的 SLA 目标。", slaDue: "{time} 到期", slaRemaining: "剩余 {duration}（已暂停）",
    businessHours: "工作时间",
    ev_status: "状态 {before} → {after}", ev_priority: "优先级 {before} → {after}", ev_assigned: "分配给 {name}",
    ev_unassigned: "取消分配", ev_group: "小组 {before} → {after}", ev_category: "分类 {before} → {after}",
    ev_language: "语言 {before} → {after}", ev_tags_added: "添加标签 {tags}", ev_tags_removed: "移除标签 {tags}",
    ev_sla_policy: "SLA 策略 {before} → {after}", ev_stage: "阶段 {before} → {after}", ev_field: "{field} {before} → {after}",
    allConversations: "同时显示该客户的其他会话（{count}）", fromTicket: "工单 {id}",
    ev_sla_warning: "SLA 即将超时：{metric}", ev_sla_breached: "SLA 已超时：{metric}", ev_merged: "已合并到 {id}",
    ev_merged_in: "工单 {id} 已合并到此工单", ev_survey_sent: "已发送满意度调查", ev_survey_not_sent: "未发送满意度调查",
    ev_csat: "客户评分 {score}/5", ev_csat_comment: "“{comment}”", ev_other: "已更新", by: "由 {name}",
    created: "创建于 {time}", lastActivity: "最近活动 {time}", followUpOf: "{id} 的后续工单", mergedInto: "已合并到 {id}",
    assistant: "智能助手", assistantReply: "自动回复",
    as_answered: "智能助手用“{article}”作答（{facts}）", as_answered_plain: "智能助手已作答（{facts}）",
    as_unsure: "智能助手没有把握（{facts}）", as_handed_off: "智能助手转人工：{reason}（{facts}）",
    as_handed_off_plain: "智能助手转人工：{reason}", as_feedback_yes: "客户表示助手的回答有帮助",
    as_feedback_no: "客户表示助手的回答没有帮助", as_other: "智能助手：{event}",
    as_intent: "意图 {intent}", as_below: "{confidence}，低于阈值 {threshold}",
    as_reason_person: "客户要求转人工", as_reason_unhelpful: "连续两次回答没有帮助", as_reason_unsure: "置信度不足",
    as_reason_no_answer: "没有可用的文章", as_reason_visitor: "访客点击了“转人工”", as_reason_no_model: "没有训练好的模型", as_reason_unavailable: "智能助手暂不可用", as_sep: "，", categoryChip: "分类：{category}",
  },
};

export type TicketKey = Key;
