import type { JobEvent } from '../schemas/job-event.ts';
import type { JobSummary } from '../schemas/job.ts';
import { redactLogMessage } from './log-redaction.ts';

/** What non-admins see of a job's log: no engine command lines, file paths or PIDs. */
export function redactJobEvent(event: JobEvent): JobEvent {
  if (event.type === 'log') return { ...event, message: redactLogMessage(event.message) };
  if (event.type === 'error') return { ...event, message: redactLogMessage(event.message) };
  return event;
}

export function redactJobSummary(job: JobSummary): JobSummary {
  return job.errorMessage ? { ...job, errorMessage: redactLogMessage(job.errorMessage) } : job;
}
