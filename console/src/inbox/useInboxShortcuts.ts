// j/k next/previous, Enter open, e or Shift+R resolve, ? help, Escape closes it. Keys typed
// into a field (the tag filter, a view's name) are the field's, not shortcuts.
import { useEffect, useRef } from "react";

export interface ShortcutActions {
  ids: string[];
  selectedId: string | null;
  select: (id: string) => void;
  open: (id: string) => void;
  resolve: (id: string) => void;
  toggleHelp: () => void;
  closeHelp: () => void;
}

export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function step(ids: string[], selectedId: string | null, by: number): string | undefined {
  if (ids.length === 0) return undefined;
  const index = selectedId ? ids.indexOf(selectedId) : -1;
  if (index < 0) return ids[0];
  return ids[Math.min(ids.length - 1, Math.max(0, index + by))];
}

export function useInboxShortcuts(actions: ShortcutActions): void {
  const latest = useRef(actions);
  useEffect(() => {
    latest.current = actions;
  });

  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      const { ids, selectedId, select, open, resolve, toggleHelp, closeHelp } = latest.current;
      const key = event.key;
      if (key === "Enter" && event.target instanceof HTMLElement && event.target.closest("a, button")) return;
      let next: string | undefined;
      if (key === "j" || key === "ArrowDown") next = step(ids, selectedId, 1);
      else if (key === "k" || key === "ArrowUp") next = step(ids, selectedId, -1);
      else if (key === "Enter" && selectedId) open(selectedId);
      else if ((key === "e" || (key === "R" && event.shiftKey)) && selectedId) resolve(selectedId);
      else if (key === "?") toggleHelp();
      else if (key === "Escape") closeHelp();
      else return;
      if (next) select(next);
      event.preventDefault();
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
