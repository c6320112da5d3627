import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { addPerson, bearer, collectEvents, connectClient, uploadReference, useChorus, type Client } from './support/harness.ts';

// The fake `cosyvoice` package (a test double: no GPU or model here) fails the way the real
// one does: CUDA out of memory for a segment with "OOM", a crash for "CRASH", and the
// CosyVoice3 assertion when `<|endofprompt|>` is missing (cv3_without_marker.py).
const inference = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../inference');
const fixtures = path.join(inference, 'test/fixtures');
const model = path.join(fixtures, 'command/models/Fun-CosyVoice3-0.5B');
const pythonEnv = { PYTHONPATH: path.join(fixtures, 'fake-cosyvoice'), PYTHONDONTWRITEBYTECODE: '1' };

async function failedJob(client: Client, uploadId: string, engineId: string, text: string): Promise<string> {
  const job = await client.trpc.job.create.mutate({ mode: 'zero_shot', text, promptUploadId: uploadId, promptText: 'A reference line.', engineId, seed: 7 });
  const stream = collectEvents(client, job.id);
  await stream.done;
  expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'failed' });
  return job.id;
}

const engines = () => ({
  CHORUS_ENGINES: JSON.stringify([
    { id: 'builtin', kind: 'builtin' },
    { id: 'cv3', kind: 'command', generation: 3, model: 'Fun-CosyVoice3-0.5B', command: ['python3', path.join(inference, 'runners/cosyvoice_runner.py'), '--model-dir', model], env: pythonEnv, concurrency: 2 },
    { id: 'cv3-raw', kind: 'command', generation: 3, model: 'Fun-CosyVoice3-0.5B', command: ['python3', path.join(fixtures, 'command/cv3_without_marker.py'), model], env: pythonEnv },
  ]),
});

/** The stage named by a job's stored error event (what the worker recorded it failed in). */
async function errorStage(client: Client, jobId: string): Promise<string | undefined> {
  const stream = collectEvents(client, jobId);
  await stream.done;
  const error = stream.events.find((e) => e.type === 'error');
  return error?.type === 'error' ? error.stage : undefined;
}

describe('the admin’s review of failed runs', () => {
  const chorus = useChorus(engines);

  it('groups failures by cause, retries a group, and reopens a resolved group when it fails again', async () => {
    const member = await addPerson(chorus.h, 'member');
    const client = connectClient(chorus.h.url, member.token);
    const admin = chorus.client;
    try {
      const upload = (await uploadReference(chorus.h.url, member.token)).id;
      const oom = [await failedJob(client, upload, 'cv3', 'Please OOM now.'), await failedJob(client, upload, 'cv3', 'Another OOM, longer text this time.')];
      const crash = [
        await failedJob(client, upload, 'cv3', 'CRASH one.'),
        await failedJob(client, upload, 'cv3', 'CRASH two.'),
        await failedJob(client, upload, 'cv3', 'CRASH three.'),
      ];
      const marker = [await failedJob(client, upload, 'cv3-raw', 'No marker here.')];

      const groups = await admin.trpc.failures.groups.query({});
      const byCode = Object.fromEntries(groups.map((g) => [g.code, g]));
      expect(groups).toHaveLength(3);
      expect(byCode.GPU_OOM).toMatchObject({ count: 2, engineId: 'cv3', state: 'open', members: [{ id: member.id, count: 2 }] });
      expect(byCode.ENGINE_CRASHED?.count).toBe(3);
      expect(Object.values(byCode).find((g) => g.engineId === 'cv3-raw')?.count).toBe(1);
      expect(byCode.GPU_OOM!.perDay.at(-1)).toBe(2);
      // The stage each group failed in, as its runs' error events say (the job row forgets it when the job fails).
      expect(byCode.GPU_OOM!.stage).toBe('synthesis');
      expect(byCode.GPU_OOM!.stage).toBe(await errorStage(admin, oom[0]!));
      for (const g of groups) expect(g.stage).toBe(await errorStage(admin, g === byCode.GPU_OOM ? oom[1]! : g === byCode.ENGINE_CRASHED ? crash[2]! : marker[0]!));
      expect(byCode.GPU_OOM!.hint).toBeTruthy();
      const runs = await admin.trpc.failures.runs.query({ fingerprint: byCode.GPU_OOM!.fingerprint });
      expect(runs.map((r) => r.job.id).sort()).toEqual([...oom].sort());
      expect(runs[0]!.job.createdBy).toEqual({ id: member.id, name: expect.any(String) });

      // Retry the whole OOM group with the same seeds: new jobs linked to the failed ones.
      const { retried } = await admin.trpc.failures.retry.mutate({ fingerprint: byCode.GPU_OOM!.fingerprint, seed: 'same' });
      expect(retried.map((r) => r.retryOf).sort()).toEqual([...oom].sort());
      for (const r of retried) {
        await collectEvents(admin, r.id).done;
        const job = await admin.trpc.job.get.query({ id: r.id });
        expect(job).toMatchObject({ parentId: r.retryOf, parentRelation: 'retry', status: 'failed' });
      }
      const afterRetry = (await admin.trpc.failures.groups.query({})).find((g) => g.code === 'GPU_OOM')!;
      expect(afterRetry.retries).toEqual({ total: 2, succeeded: 0, failed: 2, pending: 0 });
      expect(afterRetry.count).toBe(4);

      // Resolve the marker group with a note: it leaves the open list.
      const markerGroup = groups.find((g) => g.engineId === 'cv3-raw')!;
      const resolved = await admin.trpc.failures.resolve.mutate({ fingerprint: markerGroup.fingerprint, note: 'Fixed the prompt rule.' });
      expect(resolved).toMatchObject({ state: 'resolved', note: 'Fixed the prompt rule.', reopened: false });
      expect((await admin.trpc.failures.groups.query({})).map((g) => g.fingerprint)).not.toContain(markerGroup.fingerprint);
      expect((await admin.trpc.failures.groups.query({ state: 'resolved' })).map((g) => g.fingerprint)).toEqual([markerGroup.fingerprint]);

      // The same cause again: the group is open again and says so.
      marker.push(await failedJob(client, upload, 'cv3-raw', 'Still no marker.'));
      const reopened = (await admin.trpc.failures.groups.query({})).find((g) => g.fingerprint === markerGroup.fingerprint)!;
      expect(reopened).toMatchObject({ state: 'open', reopened: true, count: 2, note: 'Fixed the prompt rule.' });

      // Ignore the crash group; a note on one run.
      await admin.trpc.failures.setState.mutate({ fingerprint: byCode.ENGINE_CRASHED!.fingerprint, state: 'ignored' });
      expect((await admin.trpc.failures.groups.query({ state: 'ignored' })).map((g) => g.count)).toEqual([3]);
      await admin.trpc.failures.noteRun.mutate({ jobId: crash[0]!, note: 'Known flaky decoder.' });
      const crashRuns = await admin.trpc.failures.runs.query({ fingerprint: byCode.ENGINE_CRASHED!.fingerprint });
      expect(crashRuns.find((r) => r.job.id === crash[0])?.note).toBe('Known flaky decoder.');

      // Members see the failure, but not the engine's command line, paths or pids.
      const asMember = await client.trpc.job.get.query({ id: crash[0]! });
      expect(asMember.errorMessage ?? '').not.toMatch(/\/work\/|\/tmp\/|cosyvoice_runner\.py --model-dir/);
    } finally {
      client.close();
    }
  }, 180_000);

  it('pushes each new failure to a live review subscription', async () => {
    const upload = (await uploadReference(chorus.h.url, chorus.h.token)).id;
    const seen: string[] = [];
    const sub = chorus.client.trpc.failures.onFailure.subscribe(undefined, { onData: (d) => seen.push(d.jobId) });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const id = await failedJob(chorus.client, upload, 'cv3', 'OOM for the live feed.');
      const deadline = Date.now() + 5000;
      while (!seen.includes(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(seen).toContain(id);
    } finally {
      sub.unsubscribe();
    }
  }, 60_000);
});

describe('retrying failed runs', () => {
  const chorus = useChorus(engines);

  /** Every retry job of each run, straight from the review (failures.runs). */
  const retriesOf = async (fingerprint: string): Promise<Map<string, string[]>> =>
    new Map((await chorus.client.trpc.failures.runs.query({ fingerprint })).map((r) => [r.job.id, r.retries.map((x) => x.id)]));
  const finish = async (ids: string[]): Promise<void> => {
    for (const id of ids) await collectEvents(chorus.client, id).done;
  };

  it('creates exactly one retry per failed run when the same runs are retried at the same moment', async () => {
    const admin = chorus.client;
    const upload = (await uploadReference(chorus.h.url, chorus.h.token)).id;
    const runs = [await failedJob(admin, upload, 'cv3', 'OOM at once, one.'), await failedJob(admin, upload, 'cv3', 'OOM at once, two.')];
    const group = (await admin.trpc.failures.groups.query({})).find((g) => g.code === 'GPU_OOM')!;
    expect(group.count).toBe(2);

    // A double click on "retry the group", a second admin doing the same, and a retry of the selected runs, all at once.
    const answers = await Promise.all([
      admin.trpc.failures.retry.mutate({ fingerprint: group.fingerprint, seed: 'same' }),
      admin.trpc.failures.retry.mutate({ fingerprint: group.fingerprint, seed: 'random' }),
      admin.trpc.failures.retry.mutate({ jobIds: runs, seed: 'same' }),
    ]);
    const retried = answers.flatMap((a) => a.retried);
    expect(retried.map((r) => r.retryOf).sort()).toEqual([...runs].sort());
    const after = await retriesOf(group.fingerprint);
    for (const run of runs) expect(after.get(run)).toHaveLength(1);
    // The others say why they did nothing, and name the retry that already exists.
    const skipped = answers.flatMap((a) => a.skipped);
    expect(skipped).toHaveLength(2 * runs.length);
    for (const s of skipped) {
      expect(['retry_pending', 'already_retried']).toContain(s.reason);
      expect(s.retryId).toBe(after.get(s.jobId)![0]);
    }
    await finish(retried.map((r) => r.id));

    // Once the retries have failed too, a group retry takes the failed retries (the group's new runs), not the originals again.
    const next = await admin.trpc.failures.retry.mutate({ fingerprint: group.fingerprint, seed: 'same' });
    expect(next.retried.map((r) => r.retryOf).sort()).toEqual(retried.map((r) => r.id).sort());
    expect(next.skipped.map((s) => [s.jobId, s.reason]).sort()).toEqual(runs.map((r) => [r, 'already_retried']).sort());
    await finish(next.retried.map((r) => r.id));

    // Retrying a run that has a finished retry again is possible, but only when asked for.
    const again = await admin.trpc.failures.retry.mutate({ jobIds: [runs[0]!], seed: 'same', again: true });
    expect(again.retried.map((r) => r.retryOf)).toEqual([runs[0]]);
    expect((await retriesOf(group.fingerprint)).get(runs[0]!)).toHaveLength(2);
    // …and never while that retry is still queued or running.
    const twice = await admin.trpc.failures.retry.mutate({ jobIds: [runs[0]!], seed: 'same', again: true });
    expect(twice.retried).toEqual([]);
    expect(twice.skipped).toEqual([expect.objectContaining({ jobId: runs[0], reason: expect.stringMatching(/^(retry_pending|already_retried)$/) })]);
    await finish(again.retried.map((r) => r.id));
  }, 120_000);

  it('answers a malformed or oversized jobIds list with a 400 that says what is accepted', async () => {
    const retry = async (body: unknown): Promise<{ status: number; message: string }> => {
      const res = await fetch(`${chorus.h.url}/trpc/failures.retry`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(chorus.h.token) }, body: JSON.stringify(body) });
      const json = (await res.json()) as { error: { message: string } };
      return { status: res.status, message: json.error.message };
    };
    const valid = 'job_0123456789abcdefghjkmnpqrs';
    expect(await retry({ jobIds: [valid, 'job_123'] })).toEqual({
      status: 400,
      message: 'jobIds.1: Malformed job id. A job id is "job_" followed by 26 lower-case letters and digits (e.g. job_01kbf0c3m4r8q2w5x7y9z1a2b3).',
    });
    expect(await retry({ jobIds: ['../etc/passwd'] })).toMatchObject({ status: 400, message: expect.stringContaining('A job id is "job_" followed by 26 lower-case letters and digits') });
    expect(await retry({ jobIds: [] })).toEqual({ status: 400, message: 'jobIds: jobIds must list 1 to 100 failed runs; it is empty.' });
    expect(await retry({ jobIds: Array.from({ length: 101 }, () => valid) })).toMatchObject({ status: 400, message: expect.stringContaining('jobIds must list 1 to 100 failed runs') });
    expect(await retry({ jobIds: valid })).toMatchObject({ status: 400, message: expect.stringContaining('jobIds must be an array of 1 to 100 job ids') });
    // Well-formed, but not a failed run: nothing to do.
    expect(await retry({ jobIds: [valid] })).toMatchObject({ status: 404, message: 'None of the given jobIds is a failed run; nothing was retried.' });
  });
});
