import { useRef } from 'react';

/** 128 random bits as hex; getRandomValues works on plain http too (randomUUID needs a secure context). */
function randomRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * One client request id per distinct submission: pressing the button again with the same
 * inputs after a lost answer sends the same id, so the server answers with the job it already
 * created; changed inputs or a success start a new id.
 */
export function useSubmissionId(): { idFor(request: unknown): string; succeeded(): void } {
  const last = useRef<{ request: string; id: string } | null>(null);
  return {
    idFor(request) {
      const key = JSON.stringify(request);
      if (last.current?.request !== key) last.current = { request: key, id: randomRequestId() };
      return last.current.id;
    },
    succeeded() {
      last.current = null;
    },
  };
}
