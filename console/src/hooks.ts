import { useEffect, useState } from 'preact/hooks';

/** The hash route: `#/queues/orders` is ['queues', 'orders'] with its query. */
export function useRoute(): { parts: string[]; query: URLSearchParams } {
  const read = () => {
    const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
    return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  /** Reload now (after an action), without waiting for the next tick. */
  reload: () => void;
}

/** Loads `load()` now and every `everyMs` (the counts are live); the last good data stays on an error. */
export function usePoll<T>(load: () => Promise<T>, deps: readonly unknown[], everyMs = 2_000): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await load();
        if (!live) return;
        setData(value);
        setError(undefined);
      } catch (e) {
        if (live) setError(e instanceof Error ? e : new Error(String(e)));
      }
      if (live && everyMs > 0) timer = setTimeout(run, everyMs);
    };
    void run();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

/** The current time, re-read every `everyMs` (for countdowns and ages). */
export function useNow(everyMs = 500): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
