// A form's submit: busy while it runs, the hub's error when it fails.
import { useCallback, useState } from "react";

export interface Action<A extends unknown[]> {
  busy: boolean;
  error: unknown;
  run: (...args: A) => Promise<boolean>;
  clear: () => void;
}

export function useAction<A extends unknown[]>(work: (...args: A) => Promise<unknown>): Action<A> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(
    async (...args: A) => {
      setBusy(true);
      setError(null);
      try {
        await work(...args);
        return true;
      } catch (caught) {
        setError(caught);
        return false;
      } finally {
        setBusy(false);
      }
    },
    [work],
  );
  const clear = useCallback(() => setError(null), []);
  return { busy, error, run, clear };
}
