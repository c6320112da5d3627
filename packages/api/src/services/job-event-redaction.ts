import type { JobEvent } from '../schemas/job-event.ts';
import type { JobSummary } from '../schemas/job.ts';
import { redactLogMessage } from './log-redaction.ts';

/** What non-admins see of a job's log: no engine command lines, file paths, PIDs, URL credentials, secrets or e-mail addresses. */
export function redactJobEvent(event: JobEvent): JobEvent {
  if (event.type === 'log') return { ...event, message: redactLogMessage(event.message) };
  if (event.type === 'error') {
    return { ...event, message: redactLogMessage(event.message), ...(event.hint !== undefined ? { hint: redactLogMessage(event.hint) } : {}) };
  }
  if (event.type === 'status' && event.reason !== undefined) return { ...event, reason: redactLogMessage(event.reason) };
  return event;
}

/** A job row as non-admins see it: its error message and hint redacted like its log. */
export function redactJobSummary(job: JobSummary): JobSummary {
  return {
    ...job,
    errorMessage: job.errorMessage === null ? null : redactLogMessage(job.errorMessage),
    errorHint: job.errorHint === null ? null : redactLogMessage(job.errorHint),
  };
}
