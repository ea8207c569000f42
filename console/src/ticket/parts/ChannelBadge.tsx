import "./parts.css";
import { useLabels } from "../useLabels";

const icons: Record<string, string> = {
  // 16×16 outlines: chat bubbles, a phone, an envelope, a globe
  wechat: "M6 2.5C3.2 2.5 1 4.3 1 6.6c0 1.3.7 2.4 1.8 3.2L2.4 11.5l2-1.1c.5.1 1 .2 1.6.2M10.5 6.5c2.5 0 4.5 1.6 4.5 3.6 0 1.1-.6 2.1-1.6 2.8l.4 1.5-1.8-1c-.5.1-1 .2-1.5.2-2.5 0-4.5-1.6-4.5-3.5s2-3.6 4.5-3.6z",
  twilio: "M4 1.5h2.2l1 3.2-1.5 1.1a8 8 0 0 0 4.5 4.5l1.1-1.5 3.2 1v2.2c0 .8-.7 1.5-1.5 1.5C7.3 13.5 2.5 8.7 2.5 3c0-.8.7-1.5 1.5-1.5z",
  email: "M1.5 3.5h13v9h-13zM1.5 3.5 8 9l6.5-5.5",
  web: "M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13zM1.5 8h13M8 1.5c1.8 1.8 2.7 4 2.7 6.5S9.8 12.7 8 14.5C6.2 12.7 5.3 10.5 5.3 8S6.2 3.3 8 1.5z",
};

/** The channel a ticket came by: an icon, its name for screen readers and on hover. */
export function ChannelBadge({ channel, withLabel = false }: { channel: string; withLabel?: boolean }) {
  const labels = useLabels();
  const name = labels.channel(channel);
  const path = icons[channel] ?? icons.web;
  return (
    <span className={`channel-badge channel-${channel}`} title={name}>
      <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
        <path d={path} fill="none" stroke="currentColor" strokeWidth="1.3" strokeLinejoin="round" />
      </svg>
      {withLabel ? <span>{name}</span> : <span className="sr-only">{name}</span>}
    </span>
  );
}
