import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { TOKEN_MAX_DAYS, type TokenInfo } from '@chorus/api/schemas';
import { InlineError } from '../../components/InlineError.tsx';
import { NewTokenOnce, TokenTable } from '../../components/TokenList.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { useTRPC } from '../../trpc/context.ts';
import { CurrentPasswordField } from '../auth/AuthFields.tsx';

/** A token outlives the session that made it: the form proposes an expiry (empty still means never). */
const DEFAULT_TOKEN_DAYS = '90';

/** "" = never expires; otherwise a whole number of days. */
function parseDays(raw: string): { ok: true; days: number | undefined } | { ok: false; message: string } {
  const trimmed = raw.trim();
  if (trimmed === '') return { ok: true, days: undefined };
  const days = Number(trimmed);
  if (!Number.isInteger(days) || days < 1 || days > TOKEN_MAX_DAYS) return { ok: false, message: `Expiry must be a whole number of days from 1 to ${TOKEN_MAX_DAYS}, or empty for never.` };
  return { ok: true, days };
}

function tokenState(t: TokenInfo): string {
  if (t.revokedAt) return `revoked ${formatDateTime(t.revokedAt)}`;
  if (t.expiresAt && Date.parse(t.expiresAt) <= Date.now()) return `expired ${formatDateTime(t.expiresAt)}`;
  return t.expiresAt ? `expires ${formatDateTime(t.expiresAt)}` : 'never expires';
}

/** Tokens for scripts (Authorization: Bearer …); a new token is shown once, then only its prefix. */
export function ApiTokensSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.auth.tokens.queryOptions());
  const refresh = (): void => void queryClient.invalidateQueries({ queryKey: trpc.auth.tokens.queryKey() });
  const [name, setName] = useState('');
  const [days, setDays] = useState(DEFAULT_TOKEN_DAYS);
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const create = useMutation(trpc.auth.createToken.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.auth.revokeToken.mutationOptions({ onSuccess: refresh }));

  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const parsed = parseDays(days);
    setProblem(parsed.ok ? null : parsed.message);
    if (!parsed.ok) return;
    create.mutate(
      { name, currentPassword: password, ...(parsed.days !== undefined ? { expiresInDays: parsed.days } : {}) },
      {
        onSuccess: () => {
          setName('');
          setPassword('');
        },
      },
    );
  };

  return (
    <section className="card" aria-label="API tokens">
      <h2>API tokens</h2>
      <p className="help">
        For scripts and the command line: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you, with your role, until it
        expires or is revoked, so creating one asks for your password. Leave the expiry empty for a token that never expires.
      </p>
      <form className="inline-form" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor="token-name">Name</label>
          <input id="token-name" type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. nightly batch" required data-testid="token-name" />
        </div>
        <div className="field">
          <label htmlFor="token-days">Expires after (days)</label>
          <input id="token-days" type="number" min={1} max={TOKEN_MAX_DAYS} value={days} onChange={(e) => setDays(e.target.value)} placeholder="never" data-testid="token-days" />
        </div>
        <CurrentPasswordField id="token-password" label="Your password" value={password} onChange={setPassword} testId="token-password" />
        <button type="submit" className="button primary" disabled={create.isPending} data-testid="create-token">
          Create token
        </button>
      </form>
      <InlineError message={problem ?? create.error?.message} />
      {create.data ? <NewTokenOnce token={create.data.token} testId="new-token" valueTestId="new-token-value" copyTestId="copy-token" /> : null}
      <TokenTable
        query={tokens}
        empty="No tokens yet."
        created={(t) => formatDateTime(t.createdAt)}
        state={tokenState}
        onRevoke={(t) => revoke.mutate({ tokenId: t.id })}
        revoking={revoke.isPending}
        testIds={{ table: 'tokens', row: 'token-row', revoke: 'revoke-token' }}
      />
      <InlineError message={revoke.error?.message} />
    </section>
  );
}
