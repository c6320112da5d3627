/**
 * History page benchmark (issue 7, part 11): the first page of job.list on a database of
 * 1,000,000 jobs, over HTTP from a real Chorus server (src/main.ts, SQLite), against the same
 * SQL run directly through better-sqlite3 on the same file with the same indexes, in the same run.
 *
 * The database: Chorus migrates a fresh SQLite file and creates its admin (a first start), then
 * better-sqlite3 adds 9 more people and BENCH_HISTORY_JOBS jobs in one transaction (the Job
 * indexes are dropped and re-created from their own migrated SQL around the insert, for speed):
 * createdAt spread over a year, ids time-sortable like Chorus's, owners round-robin, statuses
 * 85% succeeded, 10% failed, 5% canceled, except the newest 5,000, of which 40% are still
 * queued (a backlog: queue positions are computed per page) and 2 running. The queued jobs'
 * engine is not configured on the server, so its worker leaves them alone. No ANALYZE, as in
 * a real install.
 *
 * Each scenario is one page: the default (everyone, newest first), status=failed, one
 * person's jobs, status=queued. Chorus: GET /trpc/job.list with an admin bearer token, timed
 * until the whole body is read. Raw SQL: the statements the page needs, prepared once: the
 * page (ORDER BY id DESC LIMIT 21), the people's names, and for a page holding queued jobs the
 * two queue-position queries (count ahead of the first, ids up to the last). Also shown: the
 * page SELECT alone, and auth.me over the same HTTP path (the cost of any signed-in call:
 * the floor under job.list). Requests alternate (Chorus, raw) after BENCH_HISTORY_WARMUP warm-up
 * requests each; figures are medians. Target: Chorus ≤ 3× the raw SQL of the same page.
 *
 * Run: pnpm --filter @chorus/server bench   (or BENCH_SUITES=history; `pnpm bench` at the root)
 *   BENCH_HISTORY_JOBS=n        jobs to seed (default 1,000,000)
 *   BENCH_HISTORY_REQUESTS=n    measured requests per scenario and side (default 50)
 *   BENCH_HISTORY_WARMUP=n      unmeasured requests first (default 10)
 *   BENCH_HISTORY_ONLY=id,id    only these scenarios (default, failed, person, queued)
 *   BENCH_CPU_PROF=dir          a V8 CPU profile of the Chorus server (written when it stops)
 * Results: the table on stdout and bench/results/history.json. Exit 1 if a page differs from
 * the raw SQL one (its job ids or queue positions).
 */
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBenchmark, runDir, wallMs } from './lib/processes.ts';
import { fmt, intEnv, median, onlyFrom, round, table, writeResults } from './lib/report.ts';
import { startChorusServer, type ChorusServer } from './lib/targets.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const jobCount = intEnv('BENCH_HISTORY_JOBS', 1_000_000);
const requests = intEnv('BENCH_HISTORY_REQUESTS', 50);
const warmup = intEnv('BENCH_HISTORY_WARMUP', 10);
const only = onlyFrom('BENCH_HISTORY_ONLY');
const TARGET = 3;
const PAGE = 20;

// better-sqlite3 is @chorus/db's dependency, not the server's: loaded from there so the server's dependencies stay as they are.
const requireFromDb = createRequire(path.resolve(benchDir, '../../../packages/db/package.json'));
interface Statement {
  all(...params: unknown[]): Record<string, unknown>[];
  get(...params: unknown[]): Record<string, unknown> | undefined;
  run(...params: unknown[]): unknown;
}
interface Sqlite {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(sql: string): unknown;
  transaction(fn: () => void): () => void;
  close(): void;
}
const Database = requireFromDb('better-sqlite3') as new (file: string, options?: { readonly?: boolean }) => Sqlite;

// ---------------------------------------------------------------------------------------------
// Seeding

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
function base32(n: bigint, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    s = ALPHABET[Number(n % 32n)]! + s;
    n /= 32n;
  }
  return s;
}
/** An id laid out like Chorus's (ids.ts): 10 characters of ms time, 16 of randomness. */
const idAt = (prefix: string, ms: number): string => `${prefix}_${base32(BigInt(ms), 10)}${base32(BigInt(`0x${crypto.randomBytes(10).toString('hex')}`), 16)}`;
/** Prisma's DateTime text in SQLite, as Chorus writes it. */
const stamp = (ms: number): string => new Date(ms).toISOString().replace('Z', '+00:00');

interface Seeded {
  users: string[];
  queued: number;
  seedS: number;
}

function seed(file: string): Seeded {
  const t0 = wallMs();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const admin = db.prepare('SELECT id FROM User').get()!.id as string;
  const now = Date.now();
  const users = [admin];
  const insertUser = db.prepare('INSERT INTO User (id, email, name, role, passwordHash, active, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, 1, ?, ?)');
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'Job' AND sql IS NOT NULL").all() as Array<{ name: string; sql: string }>;
  const insertJob = db.prepare(`INSERT INTO Job (id, mode, text, speakerId, promptText, speed, seed, createdById, canceledById, engineId, engineKind, engineVersion, deterministic,
      status, stage, attempts, createdAt, queuedAt, startedAt, finishedAt, updatedAt, errorCode, errorMessage, failureFingerprint,
      outputPath, outputSampleRate, outputDurationMs, outputSha256, outputBytes, lastSeq, leaseOwner, leaseExpiresAt, leaseEpoch)
    VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, 'cosyvoice3', 'command', 'Fun-CosyVoice3-0.5B', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const span = 365 * 24 * 3600 * 1000;
  const backlog = Math.min(5000, jobCount);
  let queued = 0;
  db.transaction(() => {
    for (let u = 1; u <= 9; u++) {
      const id = idAt('usr', now - span - 1000 + u);
      insertUser.run(id, `member${u}@chorus.test`, `Member ${u}`, 'member', 'scrypt$16384$8$1$bench$bench', stamp(now - span), stamp(now - span));
      users.push(id);
    }
    for (const ix of indexes) db.exec(`DROP INDEX "${ix.name}"`);
    for (let i = 0; i < jobCount; i++) {
      const created = now - span + Math.floor((i * span) / jobCount);
      const id = idAt('job', created);
      const owner = users[i % users.length]!;
      const r = (i * 2654435761) % 1000; // a fixed spread of statuses, the same on every run
      const newest = i >= jobCount - backlog;
      const status = newest && r < 400 ? 'queued' : newest && i >= jobCount - 3 ? 'running' : r < 850 ? 'succeeded' : r < 950 ? 'failed' : 'canceled';
      if (status === 'queued') queued++;
      const zeroShot = i % 3 !== 0;
      const started = status === 'queued' ? null : created + 800;
      const finished = status === 'queued' || status === 'running' ? null : created + 5400;
      const ok = status === 'succeeded';
      insertJob.run(
        id,
        zeroShot ? 'zero_shot' : 'pretrained',
        `History benchmark job ${i}: the quick brown fox jumps over the lazy dog, take ${i % 7}.`,
        zeroShot ? null : 'speaker-1',
        zeroShot ? 'A reference transcript of a few seconds.' : null,
        (i * 40503) % 4294967296,
        owner,
        status === 'canceled' ? owner : null,
        status,
        status === 'running' ? 'synthesis' : ok ? 'encoding' : status === 'failed' ? 'synthesis' : null,
        status === 'queued' ? 0 : 1,
        stamp(created),
        stamp(created),
        started === null ? null : stamp(started),
        finished === null ? null : stamp(finished),
        stamp(finished ?? started ?? created),
        status === 'failed' ? 'GPU_OOM' : null,
        status === 'failed' ? 'CUDA out of memory. Tried to allocate 2.00 GiB.' : null,
        status === 'failed' ? 'f'.repeat(40) : null,
        ok ? `outputs/${id}.wav` : null,
        ok ? 24000 : null,
        ok ? 3000 + (i % 4000) : null,
        ok ? crypto.createHash('sha256').update(id).digest('hex') : null,
        ok ? 144044 + (i % 4000) * 48 : null,
        status === 'queued' ? 3 : 14,
        status === 'running' ? 'wrk_bench' : null,
        // Far ahead, so lease recovery leaves the seeded running jobs alone.
        status === 'running' ? stamp(now + 24 * 3600 * 1000) : null,
        status === 'queued' ? 0 : 1,
      );
    }
    for (const ix of indexes) db.exec(ix.sql);
  })();
  db.close();
  return { users, queued, seedS: round((wallMs() - t0) / 1000, 1) };
}

// ---------------------------------------------------------------------------------------------
// The same page in raw SQL

interface Scenario {
  id: string;
  input: { status?: string; createdBy?: string };
}

function rawPage(db: Sqlite): (input: Scenario['input']) => { rows: Record<string, unknown>[]; positions: Map<string, number>; fullMs: number; pageMs: number } {
  const pageSql = (where: string): Statement => db.prepare(`SELECT * FROM Job ${where} ORDER BY id DESC LIMIT ${PAGE + 1}`);
  const pages = new Map<string, Statement>([
    ['', pageSql('')],
    ['s', pageSql('WHERE status = ?')],
    ['c', pageSql('WHERE createdById = ?')],
    ['sc', pageSql('WHERE status = ? AND createdById = ?')],
  ]);
  const names = new Map<number, Statement>();
  const ahead = db.prepare(`SELECT COUNT(*) AS n FROM Job WHERE status = 'queued' AND (queuedAt < ? OR (queuedAt = ? AND id < ?))`);
  const spanIds = db.prepare(
    `SELECT id FROM Job WHERE status = 'queued' AND (queuedAt > ? OR (queuedAt = ? AND id >= ?)) AND (queuedAt < ? OR (queuedAt = ? AND id <= ?)) ORDER BY queuedAt, id`,
  );
  return (input) => {
    const t0 = wallMs();
    const key = (input.status ? 's' : '') + (input.createdBy ? 'c' : '');
    const params = [input.status, input.createdBy].filter((p) => p !== undefined);
    const rows = pages.get(key)!.all(...params).slice(0, PAGE);
    const pageMs = wallMs() - t0;
    const people = [...new Set(rows.flatMap((r) => [r.createdById, r.canceledById]).filter((id): id is string => typeof id === 'string'))];
    if (people.length) {
      if (!names.has(people.length)) names.set(people.length, db.prepare(`SELECT id, name FROM User WHERE id IN (${people.map(() => '?').join(', ')})`));
      names.get(people.length)!.all(...people);
    }
    const queued = rows.filter((r) => r.status === 'queued').sort((a, b) => String(a.queuedAt).localeCompare(String(b.queuedAt)) || String(a.id).localeCompare(String(b.id)));
    const first = queued[0];
    const last = queued.at(-1);
    const positions = new Map<string, number>();
    if (first && last) {
      const before = ahead.get(first.queuedAt, first.queuedAt, first.id)!.n as number;
      spanIds.all(first.queuedAt, first.queuedAt, first.id, last.queuedAt, last.queuedAt, last.id).forEach((row, i) => positions.set(row.id as string, before + i + 1));
    }
    return { rows, positions, fullMs: wallMs() - t0, pageMs };
  };
}

// ---------------------------------------------------------------------------------------------

interface ScenarioResult {
  id: string;
  input: Scenario['input'];
  itemsOnPage: number;
  queuedOnPage: number;
  /** chorusFloor: auth.me over the same HTTP path (sign-in check, tRPC, JSON), what any call costs. */
  medianMs: { chorus: number; rawSql: number; rawPageSelect: number; chorusFloor: number };
  p90Ms: { chorus: number; rawSql: number };
  /** Chorus ÷ raw (medians). */
  ratio: { vsRawSql: number; vsPageSelect: number };
  queryPlan: string[];
}

const results: ScenarioResult[] = [];
const failures: string[] = [];
let seeded: Seeded | null = null;

const p90 = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.9))]!;

async function chorusFloor(chorus: ChorusServer): Promise<number> {
  const t0 = wallMs();
  const res = await fetch(`${chorus.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${chorus.token}` } });
  await res.text();
  if (res.status !== 200) throw new Error(`auth.me: ${res.status}`);
  return wallMs() - t0;
}

async function chorusPage(chorus: ChorusServer, input: Scenario['input']): Promise<{ ms: number; ids: string[]; positions: Array<number | null> }> {
  const url = `${chorus.url}/trpc/job.list?input=${encodeURIComponent(JSON.stringify(input))}`;
  const t0 = wallMs();
  const res = await fetch(url, { headers: { authorization: `Bearer ${chorus.token}` } });
  const body = await res.text();
  const ms = wallMs() - t0;
  if (res.status !== 200) throw new Error(`job.list ${JSON.stringify(input)}: ${res.status} ${body.slice(0, 300)}`);
  const items = (JSON.parse(body) as { result: { data: { items: Array<{ id: string; queuePosition: number | null }> } } }).result.data.items;
  return { ms, ids: items.map((j) => j.id), positions: items.map((j) => j.queuePosition) };
}

async function main(): Promise<void> {
  const file = path.join(runDir, 'history.db');
  console.log(`History page benchmark: ${jobCount.toLocaleString('en')} jobs, ${requests} requests per scenario and side`);
  // First start: Chorus migrates the file and creates its admin; then it stops and the jobs go in.
  const first = await startChorusServer(1, { sqliteFile: file });
  await first.stop();
  seeded = seed(file);
  console.log(`Seeded ${jobCount.toLocaleString('en')} jobs (${seeded.queued} queued) in ${seeded.seedS} s`);
  const person = seeded.users[3]!;
  const scenarios: Scenario[] = [
    { id: 'default', input: {} },
    { id: 'failed', input: { status: 'failed' } },
    { id: 'person', input: { createdBy: person } },
    { id: 'queued', input: { status: 'queued' } },
  ].filter((s) => !only || only.has(s.id));
  if (scenarios.length === 0) throw new Error('BENCH_HISTORY_ONLY matches nothing; scenario ids: default, failed, person, queued.');

  const chorus = await startChorusServer(1, { sqliteFile: file, command: ['python3', path.join(benchDir, 'tiny-engine.py')] });
  const raw = new Database(file, { readonly: true });
  try {
    const page = rawPage(raw);
    for (const sc of scenarios) {
      const chorusMs: number[] = [];
      const rawMs: number[] = [];
      const pageMs: number[] = [];
      const floorMs: number[] = [];
      let ids: string[] = [];
      let chorusPositions: Array<number | null> = [];
      let rows: Record<string, unknown>[] = [];
      let rawPositions = new Map<string, number>();
      for (let i = 0; i < warmup + requests; i++) {
        const c = await chorusPage(chorus, sc.input);
        const r = page(sc.input);
        const f = await chorusFloor(chorus);
        ids = c.ids;
        chorusPositions = c.positions;
        rows = r.rows;
        rawPositions = r.positions;
        if (i >= warmup) {
          chorusMs.push(c.ms);
          rawMs.push(r.fullMs);
          pageMs.push(r.pageMs);
          floorMs.push(f);
        }
      }
      const rawIds = rows.map((r) => r.id as string);
      if (ids.join() !== rawIds.join()) failures.push(`${sc.id}: Chorus's page and the raw SQL page differ (${ids.length} vs ${rawIds.length} jobs, first ${ids[0]} vs ${rawIds[0]})`);
      const expectedPositions = rawIds.map((id) => rawPositions.get(id) ?? null);
      if (chorusPositions.join() !== expectedPositions.join()) failures.push(`${sc.id}: queue positions differ: Chorus ${chorusPositions.join(',')} vs raw SQL ${expectedPositions.join(',')}`);
      const where = [sc.input.status ? `status = '${sc.input.status}'` : '', sc.input.createdBy ? `createdById = '${sc.input.createdBy}'` : ''].filter(Boolean).join(' AND ');
      const queryPlan = (raw.prepare(`EXPLAIN QUERY PLAN SELECT * FROM Job ${where ? `WHERE ${where}` : ''} ORDER BY id DESC LIMIT ${PAGE + 1}`).all() as Array<{ detail: string }>).map((p) => p.detail);
      const m = { chorus: round(median(chorusMs)), rawSql: round(median(rawMs)), rawPageSelect: round(median(pageMs)), chorusFloor: round(median(floorMs)) };
      const result: ScenarioResult = {
        id: sc.id,
        input: sc.input,
        itemsOnPage: ids.length,
        queuedOnPage: rows.filter((r) => r.status === 'queued').length,
        medianMs: m,
        p90Ms: { chorus: round(p90(chorusMs)), rawSql: round(p90(rawMs)) },
        ratio: { vsRawSql: round(m.chorus / m.rawSql, 2), vsPageSelect: round(m.chorus / m.rawPageSelect, 2) },
        queryPlan,
      };
      results.push(result);
      console.log(`${sc.id}: chorus ${fmt(m.chorus)} ms (auth.me ${fmt(m.chorusFloor)} ms), raw SQL ${fmt(m.rawSql)} ms (page SELECT ${fmt(m.rawPageSelect)} ms); plan: ${queryPlan.join('; ')}`);
    }
  } finally {
    raw.close();
    await chorus.stop();
  }
}

function report(): void {
  if (results.length) {
    console.log(`\nHistory page (${PAGE} jobs) at ${jobCount.toLocaleString('en')} jobs, medians of ${requests} requests; x = Chorus ÷ raw SQL (target ≤ ${TARGET})\n`);
    console.log(
      table(
        ['scenario', 'queued on page', 'raw SQL (page + names + positions)', 'page SELECT alone', 'chorus job.list (HTTP)', 'chorus auth.me (HTTP floor)', 'x raw SQL', 'x page SELECT', 'target met'],
        results.map((r) => [
          `${r.id} ${JSON.stringify(r.input)}`,
          String(r.queuedOnPage),
          `${fmt(r.medianMs.rawSql, 3)} ms`,
          `${fmt(r.medianMs.rawPageSelect, 3)} ms`,
          `${fmt(r.medianMs.chorus)} ms`,
          `${fmt(r.medianMs.chorusFloor)} ms`,
          fmt(r.ratio.vsRawSql, 1),
          fmt(r.ratio.vsPageSelect, 1),
          r.ratio.vsRawSql <= TARGET ? 'yes' : 'no',
        ]),
      ),
    );
  }
  const out = writeResults(benchDir, 'history', {
    settings: { jobs: jobCount, requests, warmup, pageSize: PAGE, database: 'sqlite', target: `chorus job.list ms ÷ raw SQL ms ≤ ${TARGET}` },
    seeded,
    scenarios: results,
    failures,
  });
  console.log(`\nResults written to ${path.relative(process.cwd(), out)}`);
  if (failures.length) console.log(`\nFAILED:\n${failures.map((f) => `- ${f}`).join('\n')}`);
}

await runBenchmark(main, failures, report);
