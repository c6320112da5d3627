import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job, JobEventRow } from '@chorus/db';
import { describe, expect, it } from 'vitest';
import { eventFromRow, toJobSummary } from '../src/index.ts';
import { JOB_ERROR_CODES, JOB_ERROR_INFO, UPLOAD_ERROR_CODES, jobErrorCodeSchema, toJobErrorCode, uploadWarningSchema } from '../src/schemas/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Where jobs fail: the engines and worker, the web app, and lease recovery (INTERRUPTED). */
const SCANNED = ['apps/inference/src', 'apps/web/src', 'packages/api/src/services/job-leases.ts'];

/** Where a job error code is written as a literal: the constructor, its helpers, a `{ code }` object. */
const JOB_CODE_SITES = [
  /\bEngineError\(\s*'([A-Z][A-Z0-9_]*)'/g,
  /\bfailPrompt\(\s*'([A-Z][A-Z0-9_]*)'/g,
  /\bsuper\(\s*'([A-Z][A-Z0-9_]*)'/g,
];
/** `code: 'X'` is also how upload refusals and warnings are written, so those lists count too. */
const ANY_CODE_SITE = /\bcode:\s*'([A-Z][A-Z0-9_]*)'/g;

interface Use {
  code: string;
  where: string;
  jobOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  if (fs.statSync(dir).isFile()) return [dir];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx|mts)$/.test(entry.name) ? [full] : [];
  });
}

function usesIn(source: string, where: string): Use[] {
  const uses: Use[] = [];
  const collect = (re: RegExp, jobOnly: boolean): void => {
    for (const m of source.matchAll(re)) {
      const line = source.slice(0, m.index).split('\n').length;
      uses.push({ code: m[1]!, where: `${where}:${line}`, jobOnly });
    }
  };
  for (const re of JOB_CODE_SITES) collect(re, true);
  collect(ANY_CODE_SITE, false);
  return uses;
}

const KNOWN_JOB = new Set<string>(JOB_ERROR_CODES);
const KNOWN_OTHER = new Set<string>([...UPLOAD_ERROR_CODES, ...uploadWarningSchema.shape.code.options]);
const unknown = (uses: Use[]): string[] =>
  uses.filter((u) => !KNOWN_JOB.has(u.code) && (u.jobOnly || !KNOWN_OTHER.has(u.code))).map((u) => `${u.code} at ${u.where}`);

const uses = SCANNED.flatMap((dir) => sourceFiles(path.join(ROOT, dir)).flatMap((file) => usesIn(fs.readFileSync(file, 'utf8'), path.relative(ROOT, file))));

describe('the job error code list', () => {
  it('has a description, hint and retry flag for every code, and no duplicates', () => {
    expect(new Set(JOB_ERROR_CODES).size).toBe(JOB_ERROR_CODES.length);
    expect(Object.keys(JOB_ERROR_INFO).sort()).toEqual([...JOB_ERROR_CODES].sort());
    for (const info of Object.values(JOB_ERROR_INFO)) {
      expect(info.description).toMatch(/\S/);
      expect(info.hint).toMatch(/\S/);
    }
    expect(JOB_ERROR_INFO.GPU_OOM.retryable).toBe(true);
    expect(JOB_ERROR_INFO.PROMPT_FORMAT.retryable).toBe(false);
  });

  it('shares no code with the upload refusals (each is its own list)', () => {
    expect(JOB_ERROR_CODES.filter((c) => (UPLOAD_ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it('reads stored codes it does not know as INTERNAL', () => {
    expect(toJobErrorCode('GPU_OOM')).toBe('GPU_OOM');
    expect(toJobErrorCode('SOME_OLD_CODE')).toBe('INTERNAL');
    expect(jobErrorCodeSchema.safeParse('SOME_OLD_CODE').success).toBe(false);
  });

  it('reads old rows with unknown codes without throwing: job summaries and stored error events', () => {
    // Only the columns toJobSummary reads for this check; a row from before the closed list.
    const job = { id: 'job_x', status: 'failed', createdAt: new Date(0), startedAt: null, finishedAt: null, errorCode: 'CUDA_ERROR', errorMessage: 'm', errorHint: null } as unknown as Job;
    expect(toJobSummary(job, null).errorCode).toBe('INTERNAL');
    expect(toJobSummary({ ...job, errorCode: 'GPU_OOM' }, null).errorCode).toBe('GPU_OOM');
    expect(toJobSummary({ ...job, errorCode: null }, null).errorCode).toBeNull();
    const row = (code: string) =>
      ({ payload: { type: 'error', code, message: 'm', seq: 3, at: new Date(0).toISOString() } }) as unknown as JobEventRow;
    expect(eventFromRow(row('CUDA_ERROR'))).toMatchObject({ type: 'error', code: 'INTERNAL', message: 'm' });
    expect(eventFromRow(row('ENGINE_TIMEOUT'))).toMatchObject({ type: 'error', code: 'ENGINE_TIMEOUT' });
  });
});

describe('codes in apps/inference/src, apps/web/src and lease recovery', () => {
  it('the scan sees the code sites (so a free-string code would be caught)', () => {
    const found = new Set(uses.map((u) => u.code));
    for (const code of ['GPU_OOM', 'ENGINE_CRASHED', 'PROMPT_NO_VOICE', 'INTERRUPTED', 'ENGINE_FAILED']) expect(found).toContain(code);
    const planted = usesIn("throw new EngineError(\n  'NOT_A_CODE', 'x');\nconst e = { code: 'ALSO_NOT_ONE' };\nnew EngineError('TOO_LONG', 'x');", 'planted.ts');
    expect(unknown(planted)).toEqual(['NOT_A_CODE at planted.ts:1', 'TOO_LONG at planted.ts:4', 'ALSO_NOT_ONE at planted.ts:3']);
  });

  it('are all in the list', () => {
    expect(unknown(uses)).toEqual([]);
  });

  it('use every listed code (INTERNAL is only read back from old rows), so the list does not rot', () => {
    const used = new Set(uses.map((u) => u.code));
    expect(JOB_ERROR_CODES.filter((c) => c !== 'INTERNAL' && !used.has(c))).toEqual([]);
  });
});

describe('docs/engines.md', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/engines.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Errors users see'), doc.indexOf('\n## ', doc.indexOf('## Errors users see') + 1));
  const tableCodes = section
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));

  it('lists every job error code in the table of "Errors users see", and only those', () => {
    expect(section.length).toBeGreaterThan(0);
    expect(JOB_ERROR_CODES.filter((c) => !tableCodes.includes(c))).toEqual([]);
    expect(tableCodes.filter((c) => !KNOWN_JOB.has(c))).toEqual([]);
  });
});
