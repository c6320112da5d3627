import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { EngineStatus } from '@chorus/api/schemas';
import { useTRPC } from '../trpc/context.ts';
import { InlineError } from '../components/InlineError.tsx';
import { NewJobForm } from './new-job/NewJobForm.tsx';

/** Loads the engines, then shows the form for the chosen one (the default engine first). */
export function NewJobPage() {
  const trpc = useTRPC();
  const engines = useQuery(trpc.engine.list.queryOptions(undefined, { staleTime: 60_000 }));

  let body;
  if (engines.isPending) body = <p className="muted">Loading engines…</p>;
  else if (engines.isError) body = <InlineError message={`Could not load engines: ${engines.error.message}`} />;
  else if (engines.data.length === 0) body = <InlineError message="This server has no synthesis engines configured." />;
  else body = <EngineForm engines={engines.data} />;

  return (
    <div className="page new-job-page">
      <h1>New job</h1>
      {body}
    </div>
  );
}

function EngineForm({ engines }: { engines: EngineStatus[] }) {
  const [engineId, setEngineId] = useState(() => (engines.find((e) => e.default) ?? engines[0])?.id ?? '');
  const engine = engines.find((e) => e.id === engineId) ?? engines[0];
  if (!engine) return null;
  return <NewJobForm engines={engines} engine={engine} onEngineChange={setEngineId} />;
}
