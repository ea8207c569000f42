import { useSyncExternalStore } from "react";

function subscribe(onChange: () => void): () => void {
  document.addEventListener("visibilitychange", onChange);
  return () => document.removeEventListener("visibilitychange", onChange);
}

/** true while the tab is hidden (the changes feed pauses then). */
export function useDocumentHidden(): boolean {
  return useSyncExternalStore(subscribe, () => document.hidden, () => false);
}
