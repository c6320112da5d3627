import type { Db } from '@chorus/db';
import { openDb } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal, useChorus } from './support/harness.ts';

/** The refusal's code and message, as a client sees them. */
async function refused(p: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  const err = await refusal(p);
  return { code: (err.data as { code?: string } | undefined)?.code, message: err.message };
}

describe('worker tokens and the workers view (admins)', () => {
  const chorus = useChorus();
  let db: Db;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  it('creates a token shown once, lists it without the secret, revokes it once, and audits both', async () => {
    const trpc = chorus.client.trpc;
    const created = await trpc.workers.createToken.mutate({ name: '  gpu-box-1  ' });
    expect(created.token).toMatch(/^chorus_wk_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'gpu-box-1', prefix: created.token.slice(0, 16), revokedAt: null, createdByName: 'Test Admin' });
    const row = await db.workerToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.tokenHash).not.toContain(created.token.slice(10));
    const listed = await trpc.workers.tokens.query();
    expect(listed.find((t) => t.id === created.id)).toEqual({ ...created, token: undefined, lastUsedAt: null } as unknown);
    expect(JSON.stringify(listed)).not.toContain(created.token);

    await trpc.workers.revokeToken.mutate({ tokenId: created.id });
    expect((await trpc.workers.tokens.query()).find((t) => t.id === created.id)?.revokedAt).not.toBeNull();
    expect(await refused(trpc.workers.revokeToken.mutate({ tokenId: created.id }))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(created.id) });
    const actions = (await db.auditEntry.findMany({ where: { targetId: created.id }, orderBy: { id: 'asc' } })).map((a) => a.action);
    expect(actions).toEqual(['worker_token.created', 'worker_token.revoked']);
  });

  it('refuses a blank or long name, and an id of the wrong shape, saying what is accepted', async () => {
    const trpc = chorus.client.trpc;
    expect(await refused(trpc.workers.createToken.mutate({ name: '   ' }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('1–100 characters') });
    expect(await refused(trpc.workers.createToken.mutate({ name: 'x'.repeat(101) }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('at most 100') });
    expect(await refused(trpc.workers.createToken.mutate({ name: '../../etc/passwd' }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('letters, digits, spaces and . _ -') });
    expect((await trpc.workers.createToken.mutate({ name: 'Grafikkarte 2 – München' }).catch(() => null))).toBeNull();
    expect((await trpc.workers.createToken.mutate({ name: 'Rechner_2.München' })).name).toBe('Rechner_2.München');
    expect(await refused(trpc.workers.revokeToken.mutate({ tokenId: 'tok_00000000000000000000000000' }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('"wtk_"') });
    expect(await db.workerToken.count({ where: { name: { in: ['', 'x'.repeat(101), '../../etc/passwd'] } } })).toBe(0);
  });

  it('shows each registered worker as online, stale or stopped by its heartbeats, with its resources', async () => {
    const trpc = chorus.client.trpc;
    const { id: tokenId } = await trpc.workers.createToken.mutate({ name: 'pool' });
    const now = Date.now();
    const resources = { at: new Date(now).toISOString(), cpu: { cores: 8, usagePct: 12.5, loadAverage1m: 1 }, memory: { totalBytes: 1e9, availableBytes: 5e8, processRssBytes: 1e8 }, gpu: { status: 'none', message: 'no GPU', devices: [] } };
    const engine = { id: 'cv3', kind: 'command', version: 'CosyVoice3', concurrency: 1, health: { status: 'up', message: null, checkedAt: null } };
    // An entry that does not fit the engine schema is left out of the list.
    const base = { tokenId, version: '0.1.0', engines: [engine, { id: 'cv3-old', health: 'up' }], startedAt: new Date(now - 3_600_000) };
    await db.workerNode.createMany({
      data: [
        { ...base, id: 'wrk_a', name: 'online-one', resources, lastHeartbeatAt: new Date(now - 1000) },
        { ...base, id: 'wrk_b', name: 'silent-one', resources: {}, lastHeartbeatAt: new Date(now - 120_000) },
        { ...base, id: 'wrk_c', name: 'gone-one', resources, lastHeartbeatAt: new Date(now - 60_000), stoppedAt: new Date(now - 60_000) },
      ],
    });
    const workers = await trpc.workers.list.query();
    expect(workers.map((w) => [w.name, w.state])).toEqual([
      ['online-one', 'online'],
      ['gone-one', 'stopped'],
      ['silent-one', 'stale'],
    ]);
    expect(workers[0]).toMatchObject({ tokenName: 'pool', resources, engines: [engine], currentJobs: [] });
    // Resources that do not fit the schema are shown as unknown, not passed through.
    expect(workers[2]!.resources).toBeNull();
  });
});
