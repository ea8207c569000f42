// The inbox: views on the left, the filtered list in the middle, the selected ticket's
// preview on the right. Filters live in the URL; the list follows /v1/changes.
import { useCallback, useEffect, useMemo, useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { useChangesFeed } from "../api/changes";
import { ApiError, api } from "../api/client";
import type { SavedView, TicketView } from "../api/types";
import { useT } from "../i18n";
import { ConfirmDialog } from "../ticket/parts/ConfirmDialog";
import { filtersFromSearch, filtersKey, type FilterKey } from "./filters";
import { FilterBar } from "./FilterBar";
import { inboxMessages } from "./messages";
import { ShortcutHelp } from "./ShortcutHelp";
import { TicketList } from "./TicketList";
import { TicketPreview } from "./TicketPreview";
import { useDocumentHidden } from "./useDocumentHidden";
import { useInboxShortcuts } from "./useInboxShortcuts";
import { MAX_VIEWS, useSavedViews } from "./useSavedViews";
import { useTicketList } from "./useTicketList";
import { ViewNav } from "./ViewNav";
import "./inbox.css";

export default function InboxPage() {
  const t = useT(inboxMessages);
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFromSearch(params), [params]);
  const list = useTicketList(filters);
  const saved = useSavedViews();
  const hidden = useDocumentHidden();
  const [selection, setSelection] = useState<{ id: string | null; index: number }>({ id: null, index: 0 });
  const [help, setHelp] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<SavedView | null>(null);
  const [filtersOpen, setFiltersOpen] = useState(false);

  useChangesFeed(list.applyChanges);
  useEffect(() => {
    if (!notice) return undefined;
    const timer = window.setTimeout(() => setNotice(null), 5000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  const ids = useMemo(() => list.tickets.map((ticket) => ticket.id), [list.tickets]);
  const selectedId = selection.id && ids.includes(selection.id) ? selection.id
    : ids[Math.min(selection.index, ids.length - 1)] ?? null;
  const selected = list.tickets.find((ticket) => ticket.id === selectedId) ?? null;

  const select = useCallback((id: string) => setSelection({ id, index: Math.max(0, ids.indexOf(id)) }), [ids]);
  const open = useCallback((id: string) => navigate(`/tickets/${encodeURIComponent(id)}`), [navigate]);
  const resolve = useCallback(async (id: string) => {
    const ticket = list.tickets.find((item) => item.id === id);
    if (!ticket) return;
    try {
      const answer = await api<{ ticket: TicketView }>(`/v1/tickets/${encodeURIComponent(id)}`, {
        method: "PATCH", body: { status: "solved", version: ticket.version },
      });
      list.update(answer.ticket);
      setNotice(t("resolved", { id }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) list.reload();
      setNotice(t("resolveFailed", { message: (error as Error).message }));
    }
  }, [list, t]);

  useInboxShortcuts({
    ids, selectedId, select, open, resolve: (id) => void resolve(id),
    toggleHelp: () => setHelp((value) => !value), closeHelp: () => setHelp(false),
  });

  const setFilter = (key: FilterKey, value: string) => {
    const next = new URLSearchParams(filtersKey({ ...filters, [key]: value || undefined }));
    setParams(next);
  };
  const saveView = async (name: string) => {
    if (saved.views.length >= MAX_VIEWS) throw new Error(t("tooManyViews"));
    await saved.save(name, filters);
    setNotice(t("viewSaved"));
  };
  const deleteView = async (view: SavedView) => {
    try {
      await saved.remove(view.id);
      setNotice(t("viewDeleted"));
    } catch (error) {
      setNotice((error as Error).message);
    } finally {
      setDeleting(null);
    }
  };

  return (
    <main className="inbox">
      <ViewNav filters={filters} saved={saved.views} onDelete={setDeleting} />
      <section className="inbox-main" aria-labelledby="inbox-title">
        <header className="inbox-header">
          <h1 id="inbox-title">{t("title")}</h1>
          <span className="muted">{t("count", { count: list.tickets.length })}</span>
          <span className={`live-dot${hidden ? " paused" : ""}`} title={hidden ? t("paused") : t("live")}>
            {hidden ? t("paused") : t("live")}
          </span>
          <span className="spacer" />
          <button type="button" className="link filters-toggle" aria-expanded={filtersOpen} aria-controls="inbox-filters"
                  onClick={() => setFiltersOpen((value) => !value)}>
            {t("filters")}{filtersKey(filters) ? " •" : ""}
          </button>
          <button type="button" className="link shortcut-button" data-testid="shortcut-button" aria-keyshortcuts="?" onClick={() => setHelp(true)}>
            {t("shortcuts")} <kbd>?</kbd>
          </button>
        </header>
        <FilterBar open={filtersOpen} filters={filters} onChange={setFilter} onClear={() => setParams(new URLSearchParams())} onSave={saveView} />
        <TicketList tickets={list.tickets} selectedId={selectedId} loading={list.loading} error={list.error}
                    hasMore={list.hasMore} onSelect={select} onOpen={open} onMore={list.loadMore} onRetry={list.reload} />
      </section>
      <TicketPreview ticket={selected} />
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
      {deleting && (
        <ConfirmDialog title={t("deleteViewConfirm", { name: deleting.name })} confirmLabel={t("deleteView", { name: deleting.name })}
                       cancelLabel={t("cancel")} danger onConfirm={() => void deleteView(deleting)} onCancel={() => setDeleting(null)} />
      )}
      <div className="toast" role="status" aria-live="polite">{notice}</div>
    </main>
  );
}
