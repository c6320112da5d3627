import type { EngineInfo, JobSummary } from '@chorus/api/schemas';
import { CopyButton } from '../../components/CopyButton.tsx';
import { formatDateTime, formatElapsed } from '../../lib/format.ts';
import { MODE_INFO } from '../../lib/labels.ts';
import { hrefs } from '../../router/hashRouter.ts';

/** Everything that went into the job, so a take can be understood and reproduced. */
export function JobInputs({ job, engine }: { job: JobSummary; engine: EngineInfo | undefined }) {
  const speaker = job.speakerId ? (engine?.speakers.find((s) => s.id === job.speakerId)?.name ?? job.speakerId) : null;
  const took = formatElapsed(job.startedAt, job.finishedAt);
  return (
    <section className="card job-inputs" aria-label="Inputs">
      <h2>Inputs</h2>
      <dl>
        <dt>Created by</dt>
        <dd data-testid="input-created-by">{job.createdBy?.name ?? <span className="muted">someone (before accounts)</span>}</dd>
        {job.canceledBy !== null ? (
          <>
            <dt>Canceled by</dt>
            <dd data-testid="input-canceled-by">{job.canceledBy.name}</dd>
          </>
        ) : null}
        <dt>Seed</dt>
        <dd className="seed">
          <code data-testid="seed-value">{job.seed}</code>
          <CopyButton text={String(job.seed)} title="Copy seed" testId="seed-copy" />
          {job.deterministic ? null : (
            <p className="help warn" data-testid="not-reproducible">
              This engine takes no seed: the run is not reproducible, and a re-run will sound different.
            </p>
          )}
        </dd>
        <dt>Mode</dt>
        <dd data-testid="input-mode">{MODE_INFO[job.mode].label}</dd>
        <dt>Text</dt>
        <dd className="prose" data-testid="input-text">
          {job.text}
        </dd>
        {job.promptText !== null ? (
          <>
            <dt>Transcript</dt>
            <dd className="prose">{job.promptText}</dd>
          </>
        ) : null}
        {job.instruct !== null ? (
          <>
            <dt>Instruction</dt>
            <dd className="prose">{job.instruct}</dd>
          </>
        ) : null}
        {speaker !== null ? (
          <>
            <dt>Speaker</dt>
            <dd>{speaker}</dd>
          </>
        ) : null}
        <dt>Speed</dt>
        <dd>{job.speed.toFixed(2)}×</dd>
        <dt>Engine</dt>
        <dd data-testid="input-engine">
          {engine?.name ?? job.engineId} <span className="muted">{job.engineKind} · {job.engineVersion}</span>
        </dd>
        {job.promptUploadId !== null ? (
          <>
            <dt>Reference</dt>
            <dd>
              <code>{job.promptUploadId}</code>
            </dd>
          </>
        ) : null}
        {job.parentId !== null ? (
          <>
            <dt>{job.parentRelation === 'retry' ? 'Retry of' : 'Re-run of'}</dt>
            <dd>
              <a href={hrefs.job(job.parentId)} data-testid="parent-link">
                {job.parentId}
              </a>
            </dd>
          </>
        ) : null}
        <dt>Created</dt>
        <dd>{formatDateTime(job.createdAt)}</dd>
        {took !== null ? (
          <>
            <dt>Took</dt>
            <dd>{took}</dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}
