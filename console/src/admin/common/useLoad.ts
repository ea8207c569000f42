// Loads something once and again on `reload()`, keeping the last answer while reloading.
import { useCallback, useEffect, useState } from "react";

interface Loaded<T> {
  tick: number;
  data?: T;
  error?: unknown;
}

export interface Load<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** `load` must be stable (a module function or a useCallback). */
export function useLoad<T>(load: () => Promise<T>): Load<T> {
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<Loaded<T>>({ tick: -1 });

  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ tick, data }),
      (error: unknown) => live && setState((prev) => ({ tick, data: prev.data, error })),
    );
    return () => {
      live = false;
    };
  }, [load, tick]);

  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { data: state.data, error: state.error, loading: state.tick !== tick, reload };
}
