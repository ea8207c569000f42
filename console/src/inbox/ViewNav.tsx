import { Link } from "react-router-dom";
import type { SavedView } from "../api/types";
import { useT } from "../i18n";
import { STATUSES } from "../ticket/labels";
import { useLabels } from "../ticket/useLabels";
import { BUILTIN_VIEWS, cleanFilters, filtersKey, sameFilters, type Filters } from "./filters";
import { inboxMessages } from "./messages";

interface Props {
  filters: Filters;
  saved: SavedView[];
  onDelete: (view: SavedView) => void;
}

function href(filters: Filters): string {
  const query = filtersKey(filters);
  return query ? `/inbox?${query}` : "/inbox";
}

/** The views: built-in ones, one per status, and the agent's saved ones. */
export function ViewNav({ filters, saved, onDelete }: Props) {
  const t = useT(inboxMessages);
  const labels = useLabels();
  const item = (testId: string, label: string, target: Filters) => {
    const active = sameFilters(filters, target);
    return (
      <Link to={href(target)} data-testid={testId} className={`view-link${active ? " active" : ""}`}
            aria-current={active ? "page" : undefined}>
        {label}
      </Link>
    );
  };

  return (
    <nav className="inbox-views" aria-label={t("views")}>
      <h2 className="nav-title">{t("views")}</h2>
      <ul>
        {BUILTIN_VIEWS.map((view) => <li key={view.name}>{item(`view-${view.name}`, t(`view_${view.name}`), view.filters)}</li>)}
      </ul>
      <h2 className="nav-title">{t("byStatus")}</h2>
      <ul>
        {STATUSES.map((status) => <li key={status}>{item(`view-status-${status}`, labels.status(status), { status })}</li>)}
      </ul>
      <h2 className="nav-title">{t("savedViews")}</h2>
      <ul>
        {saved.map((view) => (
          <li key={view.id} className="saved-view">
            {item(`view-saved-${view.id}`, view.name, cleanFilters(view.filters))}
            <button type="button" className="icon-button" aria-label={t("deleteView", { name: view.name })}
                    title={t("deleteView", { name: view.name })} data-testid="delete-view" onClick={() => onDelete(view)}>
              ×
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
