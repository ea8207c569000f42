import type { Messages } from "../i18n";

type Key =
  | "title" | "views" | "savedViews" | "byStatus" | "view_mine" | "view_groups" | "view_unassigned" | "view_all"
  | "view_at-risk" | "view_breached" | "filters" | "any" | "status" | "priority" | "stage" | "channel" | "assignee" | "group" | "sla"
  | "tag" | "tagPlaceholder" | "clear" | "saveView" | "viewName" | "save" | "cancel" | "deleteView" | "deleteViewConfirm"
  | "savedNothing" | "viewSaved" | "viewDeleted" | "subject" | "customer" | "lastActivity" | "noSubject"
  | "empty" | "loading" | "loadMore" | "error" | "retry" | "live" | "paused" | "count"
  | "assignee_me" | "assignee_none" | "group_mine" | "sla_at_risk" | "sla_breached"
  | "shortcuts" | "shortcutsTitle" | "key_next" | "key_prev" | "key_open" | "key_resolve" | "key_help" | "key_close"
  | "close" | "resolved" | "resolveFailed" | "open" | "preview" | "selectTicket" | "recent" | "noMessages"
  | "tooManyViews" | "ticketList" | "assistant" | "assistantHandling";

export const inboxMessages: Messages<Key> = {
  en: {
    title: "Inbox", views: "Views", savedViews: "My views", byStatus: "By status",
    view_mine: "Mine", view_groups: "My groups", view_unassigned: "Unassigned", view_all: "All",
    "view_at-risk": "SLA at risk", view_breached: "SLA breached", filters: "Filters", any: "Any", status: "Status", priority: "Priority",
    stage: "Stage", channel: "Channel", assignee: "Assignee", group: "Group", sla: "SLA", tag: "Tag",
    tagPlaceholder: "tag", clear: "Clear filters", saveView: "Save as view", viewName: "View name",
    save: "Save", cancel: "Cancel", deleteView: "Delete view “{name}”",
    deleteViewConfirm: "Delete the view “{name}”?", savedNothing: "Choose at least one filter to save a view.",
    viewSaved: "View saved", viewDeleted: "View deleted", subject: "Subject", customer: "Customer",
    lastActivity: "Last activity", noSubject: "(no subject)", empty: "No tickets in this view.",
    loading: "Loading…", loadMore: "Load more", error: "Could not load tickets: {message}", retry: "Retry",
    live: "Live", paused: "Paused while the tab is hidden", count: "{count} tickets",
    assignee_me: "Me", assignee_none: "Unassigned", group_mine: "My groups", sla_at_risk: "At risk",
    sla_breached: "Breached",
    shortcuts: "Keyboard shortcuts", shortcutsTitle: "Keyboard shortcuts", key_next: "Next ticket",
    key_prev: "Previous ticket", key_open: "Open the selected ticket", key_resolve: "Resolve (set solved)",
    key_help: "Show this help", key_close: "Close this help", close: "Close", resolved: "Ticket {id} solved",
    resolveFailed: "Could not solve the ticket: {message}", open: "Open", preview: "Preview",
    selectTicket: "Select a ticket to preview it (j/k to move, Enter to open).", recent: "Latest messages",
    noMessages: "No messages yet.", assistant: "Assistant",
    assistantHandling: "The assistant answered last", tooManyViews: "At most 20 views: delete one first.", ticketList: "Tickets",
  },
  zh: {
    title: "收件箱", views: "视图", savedViews: "我的视图", byStatus: "按状态",
    view_mine: "我的", view_groups: "我的小组", view_unassigned: "未分配", view_all: "全部",
    "view_at-risk": "SLA 即将超时", view_breached: "SLA 已超时", filters: "筛选", any: "全部", status: "状态", priority: "优先级",
    stage: "阶段", channel: "渠道", assignee: "处理人", group: "小组", sla: "SLA", tag: "标签",
    tagPlaceholder: "标签", clear: "清除筛选", saveView: "保存为视图", viewName: "视图名称",
    save: "保存", cancel: "取消", deleteView: "删除视图“{name}”", deleteViewConfirm: "确定删除视图“{name}”？",
    savedNothing: "请至少选择一个筛选条件再保存视图。", viewSaved: "视图已保存", viewDeleted: "视图已删除",
    subject: "主题", customer: "客户", lastActivity: "最近活动", noSubject: "（无主题）",
    empty: "此视图中没有工单。", loading: "加载中…", loadMore: "加载更多", error: "无法加载工单：{message}",
    retry: "重试", live: "实时", paused: "标签页隐藏时暂停", count: "{count} 个工单",
    assignee_me: "我", assignee_none: "未分配", group_mine: "我的小组", sla_at_risk: "即将超时",
    sla_breached: "已超时",
    shortcuts: "快捷键", shortcutsTitle: "键盘快捷键", key_next: "下一个工单", key_prev: "上一个工单",
    key_open: "打开所选工单", key_resolve: "解决（设为已解决）", key_help: "显示此帮助", key_close: "关闭此帮助",
    close: "关闭", resolved: "工单 {id} 已解决", resolveFailed: "无法解决工单：{message}", open: "打开",
    preview: "预览", selectTicket: "选择一个工单以预览（j/k 移动，Enter 打开）。", recent: "最新消息",
    noMessages: "暂无消息。", assistant: "智能助手",
    assistantHandling: "最后由智能助手回复", tooManyViews: "最多 20 个视图：请先删除一个。", ticketList: "工单",
  },
};

export type InboxKey = Key;
