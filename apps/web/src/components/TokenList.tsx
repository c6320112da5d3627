import type { ReactNode } from 'react';
import { formatDateTime } from '../lib/format.ts';
import { CopyButton } from './CopyButton.tsx';
import { DataTable } from './DataTable.tsx';
import { InlineError } from './InlineError.tsx';

/** What every token list shows of a token (API tokens and worker tokens alike). */
export interface ListedToken {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A token just created: shown this once, with a copy button. */
export function NewTokenOnce({ token, testId, valueTestId, copyTestId }: { token: string; testId: string; valueTestId?: string; copyTestId: string }) {
  return (
    <div className="secret-once" data-testid={testId}>
      <p>
        <strong>Copy this token now.</strong> It is shown only once; Chorus keeps only a hash of it.
      </p>
      <div className="secret-row">
        <code data-testid={valueTestId}>{token}</code>
        <CopyButton text={token} title="Copy token" testId={copyTestId} />
      </div>
    </div>
  );
}

/** The tokens query's states and the table of tokens, each revocable until revoked. */
export function TokenTable<T extends ListedToken>(props: {
  query: { isPending: true } | { isPending: false; isError: true; error: { message: string } } | { isPending: false; isError: false; data: readonly T[] };
  empty: string;
  created: (token: T) => ReactNode;
  state: (token: T) => ReactNode;
  onRevoke: (token: T) => void;
  revoking: boolean;
  testIds: { table: string; row: string; revoke: string };
}) {
  const { query, testIds } = props;
  if (query.isPending) return <p className="muted">Loading tokens…</p>;
  if (query.isError) return <InlineError message={query.error.message} />;
  if (query.data.length === 0) return <p className="muted">{props.empty}</p>;
  return (
    <DataTable
      rows={query.data}
      columns={[
        { header: 'Name', cell: (t) => t.name },
        { header: 'Starts with', cell: (t) => <code>{t.prefix}…</code> },
        { header: 'Created', cell: props.created },
        { header: 'Last used', cell: (t) => (t.lastUsedAt ? formatDateTime(t.lastUsedAt) : 'never') },
        { header: 'State', cell: props.state },
        {
          className: 'row-actions',
          cell: (t) =>
            t.revokedAt ? null : (
              <button type="button" className="button small danger" onClick={() => props.onRevoke(t)} disabled={props.revoking} data-testid={testIds.revoke}>
                Revoke
              </button>
            ),
        },
      ]}
      rowKey={(t) => t.id}
      testId={testIds.table}
      rowTestId={testIds.row}
    />
  );
}
