import { useT } from "../i18n";
import { ticketMessages } from "./messages";
import type { ReplyTemplate } from "./types";

interface Props {
  id: string;
  query: string;
  templates: ReplyTemplate[];
  active: number;
  onChoose: (code: string) => void;
  onHover: (index: number) => void;
}

function preview(template: ReplyTemplate): string {
  const text = Object.values(template.texts)[0] ?? "";
  return text.length > 90 ? `${text.slice(0, 90)}…` : text;
}

/** The templates matching "/query": the reply box's listbox (arrows, Enter/Tab, click). */
export function TemplateSuggestions({ id, query, templates, active, onChoose, onHover }: Props) {
  const t = useT(ticketMessages);
  if (templates.length === 0) {
    return <div className="template-menu empty" role="status">{t("noTemplates", { query })}</div>;
  }
  return (
    <ul className="template-menu" id={id} role="listbox" aria-label={t("templates")}>
      {templates.map((template, index) => (
        <li key={template.code} id={`${id}-${template.code}`} role="option" aria-selected={index === active}
            data-testid="template-suggestion" data-code={template.code} className={index === active ? "active" : ""}
            onMouseDown={(event) => event.preventDefault()} onMouseEnter={() => onHover(index)}
            onClick={() => onChoose(template.code)}>
          <span className="template-code">/{template.code}</span>
          <span className="template-title">{template.title}</span>
          <span className="template-preview muted">{preview(template)}</span>
        </li>
      ))}
    </ul>
  );
}
