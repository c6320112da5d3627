import type { JobEvent, JobEventOf, JobStatus, LogLevel } from '@chorus/api/schemas';

export interface LogEntry {
  seq: number;
  at: string;
  level: LogLevel;
  message: string;
}

/** What the event stream has told us about a job so far. */
export interface LiveJobState {
  /** Highest seq applied; events at or below it are duplicates (replay overlap, reconnects). */
  lastSeq: number;
  status: JobStatus | null;
  /** As of the last status event (creation, re-queue); later moves come with the summary (jobView.ts). */
  queuePosition: number | null;
  statusReason: string | null;
  stage: Omit<JobEventOf<'stage'>, 'type' | 'seq' | 'at'> | null;
  progress: Omit<JobEventOf<'progress'>, 'type' | 'seq' | 'at'> | null;
  logs: LogEntry[];
  result: JobEventOf<'result'> | null;
  error: JobEventOf<'error'> | null;
}

export const initialLiveJobState: LiveJobState = {
  lastSeq: 0,
  status: null,
  queuePosition: null,
  statusReason: null,
  stage: null,
  progress: null,
  logs: [],
  result: null,
  error: null,
};

/** Fold one event into the state. Pure; duplicates (seq already seen) return the same object. */
export function applyJobEvent(state: LiveJobState, event: JobEvent): LiveJobState {
  if (event.seq <= state.lastSeq) return state;
  const next: LiveJobState = { ...state, lastSeq: event.seq };
  switch (event.type) {
    case 'status':
      next.status = event.status;
      next.queuePosition = event.status === 'queued' ? (event.queuePosition ?? null) : null;
      next.statusReason = event.reason ?? null;
      if (event.status === 'queued') {
        // Back in the queue (e.g. after a server restart): the run starts over.
        next.stage = null;
        next.progress = null;
      }
      return next;
    case 'stage':
      next.stage = { name: event.name, label: event.label, index: event.index, count: event.count };
      next.progress = null;
      return next;
    case 'progress':
      next.progress = {
        stage: event.stage,
        step: event.step,
        total: event.total,
        percent: event.percent,
        etaMs: event.etaMs,
      };
      return next;
    case 'log':
      next.logs = [...state.logs, { seq: event.seq, at: event.at, level: event.level, message: event.message }];
      return next;
    case 'result':
      next.result = event;
      return next;
    case 'error':
      next.error = event;
      return next;
  }
}
