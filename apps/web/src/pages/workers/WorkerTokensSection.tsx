import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { CopyButton } from '../../components/CopyButton.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { InlineError } from '../../components/InlineError.tsx';
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
      {create.data ? (
        <div className="secret-once" data-testid="new-worker-token">
          <p>
            <strong>Copy this token now.</strong> It is shown only once; Chorus keeps only a hash of it.
          </p>
          <div className="secret-row">
            <code>{create.data.token}</code>
            <CopyButton text={create.data.token} title="Copy token" testId="copy-worker-token" />
          </div>
        </div>
      ) : null}
      {tokens.isPending ? (
        <p className="muted">Loading tokens…</p>
      ) : tokens.isError ? (
        <InlineError message={tokens.error.message} />
      ) : tokens.data.length === 0 ? (
        <p className="muted">No worker tokens yet.</p>
      ) : (
        <DataTable
          rows={tokens.data}
          columns={[
            { header: 'Name', cell: (t) => t.name },
            { header: 'Starts with', cell: (t) => <code>{t.prefix}…</code> },
            { header: 'Created', cell: (t) => `${formatDateTime(t.createdAt)}${t.createdByName ? ` by ${t.createdByName}` : ''}` },
            { header: 'Last used', cell: (t) => (t.lastUsedAt ? formatDateTime(t.lastUsedAt) : 'never') },
            { header: 'State', cell: (t) => (t.revokedAt ? `revoked ${formatDateTime(t.revokedAt)}` : 'active') },
            {
              className: 'row-actions',
              cell: (t) =>
                t.revokedAt ? null : (
                  <button type="button" className="button small danger" onClick={() => revoke.mutate({ tokenId: t.id })} disabled={revoke.isPending} data-testid="revoke-worker-token">
                    Revoke
                  </button>
                ),
            },
          ]}
          rowKey={(t) => t.id}
          testId="worker-tokens"
          rowTestId="worker-token-row"
        />
      )}
      <InlineError message={revoke.error?.message} />
    </section>
  );
}
