import { useQuery } from '@tanstack/react-query';
import type { WorkerNodeInfo } from '@chorus/api/schemas';
import { DataTable } from '../components/DataTable.tsx';
import { InlineError } from '../components/InlineError.tsx';
import { formatDateTime } from '../lib/format.ts';
import { hrefs } from '../router/hashRouter.ts';
import { useTRPC } from '../trpc/context.ts';
import { describeCpu, describeGpus, describeMemory } from './workers/resources.ts';
import { WorkerTokensSection } from './workers/WorkerTokensSection.tsx';

/** The state badges reuse the job colours: online like a success, stale like a failure, stopped like a cancel. */
const STATE_BADGE: Record<WorkerNodeInfo['state'], { className: string; label: string }> = {
  online: { className: 'badge badge-succeeded', label: 'online' },
  stale: { className: 'badge badge-failed', label: 'silent' },
  stopped: { className: 'badge badge-canceled', label: 'stopped' },
};

function WorkerState({ worker }: { worker: WorkerNodeInfo }) {
  const badge = STATE_BADGE[worker.state];
  return (
    <span className={badge.className} data-testid="worker-state" data-state={worker.state} title={`heartbeat every ${Math.round(worker.heartbeatMs / 1000)} s`}>
      {badge.label}
    </span>
  );
}

/** Standalone inference workers: what they run and on what machine, refreshed every few seconds. */
export function WorkersPage() {
  const trpc = useTRPC();
  const workers = useQuery(trpc.workers.list.queryOptions(undefined, { refetchInterval: 5000 }));

  return (
    <div className="page workers-page">
      <div className="page-head">
        <h1>Workers</h1>
      </div>
      {workers.isPending ? (
        <p className="muted">Loading workers…</p>
      ) : workers.isError ? (
        <InlineError message={workers.error.message} />
      ) : workers.data.length === 0 ? (
        <p className="empty">No standalone worker has registered yet. Jobs run on this server&apos;s own worker.</p>
      ) : (
        <div className="card flush">
          <DataTable
            rows={workers.data}
            columns={[
              {
                header: 'Worker',
                cell: (w) => (
                  <>
                    <strong>{w.name}</strong>
                    <div className="muted small">
                      {w.version} · token {w.tokenName}
                    </div>
                  </>
                ),
              },
              { header: 'State', cell: (w) => <WorkerState worker={w} /> },
              {
                header: 'Engines',
                cell: (w) =>
                  w.engines.length === 0 ? (
                    '—'
                  ) : (
                    <div className="small">
                      {w.engines.map((e) => (
                        <div key={e.id} title={e.health.message ?? undefined}>
                          <code>{e.id}</code> {e.version} ×{e.concurrency} ({e.health.status})
                        </div>
                      ))}
                    </div>
                  ),
              },
              {
                header: 'Running',
                cell: (w) =>
                  w.currentJobs.length === 0 ? (
                    <span className="muted">idle</span>
                  ) : (
                    <div className="small">
                      {w.currentJobs.map((j) => (
                        <div key={j.id}>
                          <a href={hrefs.job(j.id)}>{j.id.slice(-8)}</a> {j.stage ?? 'starting'}
                          {j.progressPct === null ? '' : ` ${Math.round(j.progressPct)} %`}
                        </div>
                      ))}
                    </div>
                  ),
              },
              {
                header: 'Machine',
                cell: (w) =>
                  w.resources ? (
                    <div className="small" data-testid="worker-resources">
                      <div>CPU: {describeCpu(w.resources.cpu)}</div>
                      <div>RAM: {describeMemory(w.resources.memory)}</div>
                      {describeGpus(w.resources.gpu).map((line) => (
                        <div key={line}>GPU: {line}</div>
                      ))}
                    </div>
                  ) : (
                    <span className="muted">not reported</span>
                  ),
              },
              { header: 'Last heartbeat', cell: (w) => <span className="nowrap">{formatDateTime(w.lastHeartbeatAt)}</span> },
            ]}
            rowKey={(w) => w.id}
            testId="workers"
            rowTestId="worker-row"
          />
        </div>
      )}
      <WorkerTokensSection />
    </div>
  );
}
