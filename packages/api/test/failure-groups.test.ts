import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDatabase, openDb, type Db } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEventBus } from '../src/index.ts';
import { JobEventLog, newId } from '../src/index.ts';
import type { JobEventBody } from '../src/schemas/job-event.ts';
import { failedStageOf, failureFingerprint } from '../src/services/failure-fingerprint.ts';
import { loadFailureGroups } from '../src/services/failure-groups.ts';

const quietBus: JobEventBus = {
  publishJobEvent: () => undefined,
  subscribeJobEvents: () => () => undefined,
  publishJobChange: () => undefined,
  subscribeJobChanges: () => () => undefined,
};

const stage = (name: string, index: number): JobEventBody => ({ type: 'stage', name, index, count: 3 });
const progress = (name: string): JobEventBody => ({ type: 'progress', stage: name, step: 1, total: 2, percent: 50, etaMs: null });
const running: JobEventBody = { type: 'status', status: 'running' };
const failed: JobEventBody = { type: 'status', status: 'failed' };

describe('the stage a failed run failed in', () => {
  it('is the error event’s own stage, else the last stage or progress since the job last went back to the queue', () => {
    const error = (stageName?: string): JobEventBody => ({ type: 'error', code: 'INTERRUPTED', message: 'm', ...(stageName ? { stage: stageName } : {}) });
    expect(failedStageOf([running, stage('load_model', 0), stage('synthesis', 1), error('encoding'), failed])).toBe('encoding');
    expect(failedStageOf([running, stage('load_model', 0), progress('synthesis'), error(), failed])).toBe('synthesis');
    // Re-queued after a restart, then failed before the second run reached any stage.
    expect(failedStageOf([running, stage('synthesis', 1), { type: 'status', status: 'queued' }, running, error(), failed])).toBeNull();
    expect(failedStageOf([{ type: 'status', status: 'queued' }, error(), failed])).toBeNull();
  });
});

describe('failure groups on a real SQLite file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-api-'));
  const url = `file:${path.join(dir, 'api.db')}`;
  let db: Db;
  let log: JobEventLog;

  beforeAll(async () => {
    await migrateDatabase(url);
    db = await openDb(url);
    log = new JobEventLog(db, quietBus);
  });
  afterAll(async () => {
    await db?.$disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A job that runs through the given events, the way the worker and recovery record them. */
  const failedJob = async (bodies: JobEventBody[]): Promise<string> => {
    const { job } = await log.createJob(
      { id: newId('job'), mode: 'pretrained', text: 't', speakerId: 's', seed: 1, engineId: 'cv3', engineVersion: 'v', status: 'queued' },
      (position) => [{ type: 'status', status: 'queued', queuePosition: position }],
    );
    for (const body of bodies) await log.append(job.id, [body]);
    return job.id;
  };

  it('shows each group’s stage although the failed job row no longer has one, and keeps stages apart', async () => {
    const message = 'The server stopped while this job was running.';
    // Recovery's INTERRUPTED error names no stage: the job's stage at the time counts.
    const inSynthesis = await failedJob([running, stage('load_model', 0), stage('synthesis', 1), progress('synthesis'), { type: 'error', code: 'INTERRUPTED', message }, failed]);
    const inEncoding = await failedJob([running, stage('encoding', 2), { type: 'error', code: 'INTERRUPTED', message }, failed]);
    const named = await failedJob([running, stage('load_model', 0), { type: 'error', code: 'GPU_OOM', message: 'CUDA out of memory.', stage: 'load_model' }, failed]);

    const rows = await db.job.findMany({ where: { id: { in: [inSynthesis, inEncoding, named] } } });
    expect(rows.map((r) => r.stage)).toEqual([null, null, null]);

    const groups = await loadFailureGroups(db, 14);
    const stageOf = (id: string) => groups.find((g) => g.fingerprint === rows.find((r) => r.id === id)!.failureFingerprint)?.stage;
    expect(groups).toHaveLength(3);
    expect(stageOf(inSynthesis)).toBe('synthesis');
    expect(stageOf(inEncoding)).toBe('encoding');
    expect(stageOf(named)).toBe('load_model');
    // The key is code + engine + stage + normalised message: the shown stage is the one it was made with.
    expect(rows.find((r) => r.id === inEncoding)!.failureFingerprint).toBe(failureFingerprint({ code: 'INTERRUPTED', engineId: 'cv3', stage: 'encoding', message }));
    expect(groups.find((g) => g.stage === 'load_model')!.code).toBe('GPU_OOM');
  });
});
