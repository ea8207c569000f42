import { useT } from "../i18n";
import { ticketMessages } from "./messages";
import type { Attachment } from "./types";

function playable(url: string | null | undefined): url is string {
  return Boolean(url && /^https?:\/\//i.test(url));
}

/** A message's files: recordings play in the page, pictures show, the rest are links. */
export function AttachmentList({ attachments }: { attachments: Attachment[] }) {
  const t = useT(ticketMessages);
  if (attachments.length === 0) return null;
  return (
    <ul className="attachments">
      {attachments.map((item, index) => {
        const type = item.content_type ?? "";
        const name = item.filename || (type.startsWith("audio/") ? t("recording") : t("attachment"));
        const key = `${item.url ?? ""}:${index}`;
        if (type.startsWith("audio/") && playable(item.url)) {
          return (
            <li key={key} className="attachment audio">
              <audio controls preload="none" src={item.url} aria-label={name} />
              <a href={item.url} target="_blank" rel="noreferrer">{name}</a>
            </li>
          );
        }
        if (type.startsWith("image/") && playable(item.url)) {
          return (
            <li key={key} className="attachment image">
              <a href={item.url} target="_blank" rel="noreferrer"><img src={item.url} alt={name} loading="lazy" /></a>
            </li>
          );
        }
        return (
          <li key={key} className="attachment file">
            {playable(item.url) ? <a href={item.url} target="_blank" rel="noreferrer">📎 {name}</a> : <span>📎 {name}</span>}
            {item.size_bytes ? <span className="muted"> · {Math.ceil(item.size_bytes / 1024)} KB</span> : null}
          </li>
        );
      })}
    </ul>
  );
}
