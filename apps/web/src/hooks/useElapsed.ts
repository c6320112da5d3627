import { useEffect, useState } from 'react';

/** Milliseconds since `since`, re-rendered every `intervalMs` while `since` is set. */
export function useElapsed(since: number | null, intervalMs = 200): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (since === null) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [since, intervalMs]);
  return since === null ? 0 : Math.max(0, now - since);
}
