// A history entry in words: "Status Open → Solved", "Assigned to Li Lei", "SLA breached:
// First response", "Customer rated 5/5", with who did it.
import { useCallback } from "react";
import { useT } from "../i18n";
import { describeAssistant, isAssistantEntry } from "./assistant";
import { ticketMessages } from "./messages";
import type { FieldChange, HistoryEntry } from "./types";
import { useDirectory } from "./useDirectory";
import { useLabels } from "./useLabels";

export interface EntryText {
  lines: string[];
  actor: string | null;
  note: string | null;
}

function asList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function text(value: unknown): string {
  return value === null || value === undefined || value === "" ? "—" : String(value);
}

/** The id after the cause's prefix: `merge:<into>`, `merged-in:<from>`. */
function causeId(cause: string, prefix: string): string {
  return cause.startsWith(prefix) ? cause.slice(prefix.length) : "";
}

export function useDescribeEntry(): (entry: HistoryEntry) => EntryText {
  const t = useT(ticketMessages);
  const labels = useLabels();
  const directory = useDirectory();

  const change = useCallback((item: FieldChange): string[] => {
    const { field, before, after } = item;
    switch (field) {
      case "status": return [t("ev_status", { before: labels.status(text(before)), after: labels.status(text(after)) })];
      case "priority": return [t("ev_priority", { before: labels.priority(text(before)), after: labels.priority(text(after)) })];
      case "assignee_id":
        return [after ? t("ev_assigned", { name: directory.agentName(String(after)) ?? String(after) }) : t("ev_unassigned")];
      case "group_id":
        return [t("ev_group", { before: directory.groupName(before as string) ?? "—", after: directory.groupName(after as string) ?? "—" })];
      case "category": return [t("ev_category", { before: text(before), after: text(after) })];
      case "language": return [t("ev_language", { before: text(before), after: text(after) })];
      case "sla_policy_id": return [t("ev_sla_policy", { before: text(before), after: text(after) })];
      case "tags": {
        const was = asList(before);
        const now = asList(after);
        const added = now.filter((tag) => !was.includes(tag));
        const removed = was.filter((tag) => !now.includes(tag));
        return [
          ...(added.length ? [t("ev_tags_added", { tags: added.join(", ") })] : []),
          ...(removed.length ? [t("ev_tags_removed", { tags: removed.join(", ") })] : []),
        ];
      }
      default: return [t("ev_field", { field, before: text(before), after: text(after) })];
    }
  }, [t, labels, directory]);

  const event = useCallback((entry: HistoryEntry): string | null => {
    const detail = entry.detail ?? {};
    const metric = labels.metric(text(detail.metric));
    switch (entry.event) {
      case "sla_warning": return t("ev_sla_warning", { metric });
      case "sla_breached": return t("ev_sla_breached", { metric });
      case "merged": return t("ev_merged", { id: text(detail.into ?? causeId(entry.cause, "merge:")) });
      case "merged_in": return t("ev_merged_in", { id: text(detail.from ?? causeId(entry.cause, "merged-in:")) });
      case "survey_sent": return t("ev_survey_sent");
      case "survey_not_sent": return t("ev_survey_not_sent");
      case "csat_received": return t("ev_csat", { score: text(detail.score) });
      case null: case undefined: return null;
      default: return describeAssistant(entry, t) ?? entry.event;
    }
  }, [t, labels]);

  return useCallback((entry: HistoryEntry): EntryText => {
    const lines: string[] = [];
    const headline = event(entry);
    if (headline) lines.push(headline);
    for (const item of entry.changes) lines.push(...change(item));
    if (entry.stages?.before !== entry.stages?.after && entry.stages) {
      lines.push(t("ev_stage", { before: labels.stage(entry.stages.before), after: labels.stage(entry.stages.after) }));
    }
    if (lines.length === 0) lines.push(t("ev_other"));
    const comment = entry.event === "csat_received" && entry.detail?.comment ? t("ev_csat_comment", { comment: String(entry.detail.comment) }) : null;
    const assistant = isAssistantEntry(entry);
    const actorName = entry.actor.kind === "agent" ? directory.agentName(entry.actor.id) ?? entry.actor.name
      : assistant ? t("assistant") : entry.actor.name;
    const actor = actorName ?? (entry.actor.kind === "customer" ? t("customerWrote") : entry.actor.kind);
    // an assistant's decision names the assistant and its reason in its headline
    const decision = assistant && Boolean(entry.event?.startsWith("assistant."));
    const note = decision ? null : entry.reason || detailReason(entry);
    return { lines, actor: decision && entry.actor.kind === "assistant" ? null : actor, note: comment ?? note };
  }, [event, change, t, labels, directory]);
}

function detailReason(entry: HistoryEntry): string | null {
  const reason = entry.detail?.reason ?? entry.detail?.note;
  return typeof reason === "string" && reason ? reason : null;
}
