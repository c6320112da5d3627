import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { InlineError } from '../../components/InlineError.tsx';
import { NewTokenOnce, TokenTable } from '../../components/TokenList.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { useTRPC } from '../../trpc/context.ts';

/** Tokens standalone workers authenticate with (CHORUS_WORKER_TOKEN); a new one is shown once. */
export function WorkerTokensSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.workers.tokens.queryOptions());
  const refresh = (): void => void queryClient.invalidateQueries({ queryKey: trpc.workers.tokens.queryKey() });
  const [name, setName] = useState('');
  const create = useMutation(trpc.workers.createToken.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.workers.revokeToken.mutationOptions({ onSuccess: refresh }));

  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    create.mutate({ name }, { onSuccess: () => setName('') });
  };

  return (
    <section className="card" aria-label="Worker tokens">
      <h2>Worker tokens</h2>
      <p className="help">
        A GPU machine runs a standalone worker with <code>CHORUS_SERVER_URL</code>, <code>CHORUS_WORKER_TOKEN</code> and <code>REDIS_URL</code>: no
        database credentials, no shared disk. A worker token may only take and run jobs; revoking it stops its workers at their next call.
      </p>
      <form className="inline-form" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor="worker-token-name">Machine or pool</label>
          <input id="worker-token-name" type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. gpu-box-1" required data-testid="worker-token-name" />
        </div>
        <button type="submit" className="button primary" disabled={create.isPending} data-testid="create-worker-token">
          Create token
        </button>
      </form>
      <InlineError message={create.error?.message} />
      {create.data ? <NewTokenOnce token={create.data.token} testId="new-worker-token" copyTestId="copy-worker-token" /> : null}
      <TokenTable
        query={tokens}
        empty="No worker tokens yet."
        created={(t) => `${formatDateTime(t.createdAt)}${t.createdByName ? ` by ${t.createdByName}` : ''}`}
        state={(t) => (t.revokedAt ? `revoked ${formatDateTime(t.revokedAt)}` : 'active')}
        onRevoke={(t) => revoke.mutate({ tokenId: t.id })}
        revoking={revoke.isPending}
        testIds={{ table: 'worker-tokens', row: 'worker-token-row', revoke: 'revoke-worker-token' }}
      />
      <InlineError message={revoke.error?.message} />
    </section>
  );
}
