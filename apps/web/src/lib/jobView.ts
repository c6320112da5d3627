import type { EngineInfo, JobErrorCode, JobStatus, JobSummary } from '@chorus/api/schemas';
import type { LiveJobState } from './jobEvents.ts';

export interface JobView {
  status: JobStatus;
  queuePosition: number | null;
  stage: { name: string; label: string; index: number; count: number } | null;
  progress: { step: number; total: number; percent: number; etaMs: number | null } | null;
  error: { code: JobErrorCode; message: string; hint: string | null } | null;
  output: { audioUrl: string; sampleRate: number | null; durationMs: number | null } | null;
}

function stageLabel(name: string, given: string | undefined, engine: EngineInfo | undefined): string {
  return given ?? engine?.stages.find((s) => s.name === name)?.label ?? name;
}

/**
 * The job as shown: the stream is authoritative once it has caught up with the summary
 * (its lastSeq ≥ the summary's); until then (during the initial replay) the summary is
 * newer, so the page does not flicker through old states.
 */
export function toJobView(summary: JobSummary, live: LiveJobState, engine: EngineInfo | undefined): JobView {
  const caughtUp = live.lastSeq >= summary.lastSeq && live.status !== null;

  const status = caughtUp && live.status ? live.status : summary.status;
  // Other jobs leaving the queue move this one up without an event of its own (positions are
  // computed, not logged), so a pushed or refetched summary at the same seq knows the position
  // better than the stream, whose status events carry it only at creation and on re-queue.
  const summaryCurrent = summary.lastSeq >= live.lastSeq;
  const queuePosition = status !== 'queued' ? null : summaryCurrent ? summary.queuePosition : live.queuePosition;

  let stage: JobView['stage'] = null;
  if (caughtUp && live.stage) {
    stage = { ...live.stage, label: stageLabel(live.stage.name, live.stage.label, engine) };
  } else if (!caughtUp && summary.stage !== null) {
    stage = {
      name: summary.stage,
      label: stageLabel(summary.stage, undefined, engine),
      index: summary.stageIndex ?? 0,
      count: summary.stageCount ?? engine?.stages.length ?? 1,
    };
  }

  let progress: JobView['progress'] = null;
  if (caughtUp && live.progress) {
    progress = live.progress;
  } else if (!caughtUp && summary.progressTotal !== null && summary.progressStep !== null) {
    progress = {
      step: summary.progressStep,
      total: summary.progressTotal,
      percent: summary.progressPct ?? (summary.progressStep / summary.progressTotal) * 100,
      etaMs: summary.etaMs,
    };
  }

  const error = live.error
    ? { code: live.error.code, message: live.error.message, hint: live.error.hint ?? null }
    : summary.errorCode !== null
      ? { code: summary.errorCode, message: summary.errorMessage ?? '', hint: summary.errorHint }
      : null;

  const output = live.result
    ? { audioUrl: live.result.audioUrl, sampleRate: live.result.sampleRate, durationMs: live.result.durationMs }
    : summary.audioUrl !== null
      ? { audioUrl: summary.audioUrl, sampleRate: summary.outputSampleRate, durationMs: summary.outputDurationMs }
      : null;

  return { status, queuePosition, stage, progress, error, output: status === 'succeeded' ? output : null };
}
