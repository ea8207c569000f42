// Words for the hub's enums (statuses, priorities, stages, channels, delivery states, SLA
// metrics), shared by the inbox and the ticket view.
import type { Messages } from "../i18n";

type Key =
  | "status_new" | "status_open" | "status_pending" | "status_on_hold" | "status_solved" | "status_closed"
  | "status_merged"
  | "priority_urgent" | "priority_high" | "priority_normal" | "priority_low"
  | "stage_accept" | "stage_triage" | "stage_handle" | "stage_resolve" | "stage_follow_up"
  | "channel_wechat" | "channel_twilio" | "channel_email" | "channel_web" | "channel_sms" | "channel_whatsapp"
  | "delivery_queued" | "delivery_sent" | "delivery_delivered" | "delivery_read" | "delivery_failed"
  | "metric_first_response" | "metric_next_response" | "metric_resolution" | "metric_follow_up"
  | "sla_active" | "sla_paused" | "sla_warning" | "sla_breached" | "sla_met" | "sla_due" | "sla_none"
  | "unassigned" | "nobody" | "me";

export const labelMessages: Messages<Key> = {
  en: {
    status_new: "New", status_open: "Open", status_pending: "Pending", status_on_hold: "On hold",
    status_solved: "Solved", status_closed: "Closed", status_merged: "Merged",
    priority_urgent: "Urgent", priority_high: "High", priority_normal: "Normal", priority_low: "Low",
    stage_accept: "Accept", stage_triage: "Triage", stage_handle: "Handle", stage_resolve: "Resolve",
    stage_follow_up: "Follow-up",
    channel_wechat: "WeChat", channel_twilio: "Phone/SMS", channel_email: "Email", channel_web: "Web chat",
    channel_sms: "SMS", channel_whatsapp: "WhatsApp",
    delivery_queued: "Queued", delivery_sent: "Sent", delivery_delivered: "Delivered", delivery_read: "Read",
    delivery_failed: "Failed",
    metric_first_response: "First response", metric_next_response: "Next response",
    metric_resolution: "Resolution", metric_follow_up: "Follow-up",
    sla_active: "On track", sla_paused: "Paused", sla_warning: "At risk", sla_breached: "Breached",
    sla_met: "Met", sla_due: "due {time}", sla_none: "No SLA",
    unassigned: "Unassigned", nobody: "—", me: "Me",
  },
  zh: {
    status_new: "新建", status_open: "处理中", status_pending: "待客户回复", status_on_hold: "挂起",
    status_solved: "已解决", status_closed: "已关闭", status_merged: "已合并",
    priority_urgent: "紧急", priority_high: "高", priority_normal: "普通", priority_low: "低",
    stage_accept: "受理", stage_triage: "分诊", stage_handle: "处理", stage_resolve: "反馈", stage_follow_up: "回访",
    channel_wechat: "微信", channel_twilio: "电话/短信", channel_email: "邮件", channel_web: "网页聊天",
    channel_sms: "短信", channel_whatsapp: "WhatsApp",
    delivery_queued: "排队中", delivery_sent: "已发送", delivery_delivered: "已送达", delivery_read: "已读",
    delivery_failed: "发送失败",
    metric_first_response: "首次响应", metric_next_response: "下次响应", metric_resolution: "解决",
    metric_follow_up: "回访跟进",
    sla_active: "正常", sla_paused: "已暂停", sla_warning: "即将超时", sla_breached: "已超时", sla_met: "已达成",
    sla_due: "{time} 到期", sla_none: "无 SLA",
    unassigned: "未分配", nobody: "—", me: "我",
  },
};

export type LabelKey = Key;

export const STATUSES = ["new", "open", "pending", "on_hold", "solved", "closed"] as const;
export const PRIORITIES = ["urgent", "high", "normal", "low"] as const;
export const STAGES = ["accept", "triage", "handle", "resolve", "follow_up"] as const;
export const CHANNELS = ["wechat", "twilio", "email", "web"] as const;

/** A label key for a value the hub may grow (an unknown channel shows as itself). */
export function labelKey(prefix: string, value: string): LabelKey | null {
  const key = `${prefix}_${value}`;
  return key in labelMessages.en ? (key as LabelKey) : null;
}
