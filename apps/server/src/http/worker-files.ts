import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { authorizeWorker, checkWorkerLease, isJobId, JOB_ID_RULE, workerIdOfLeaseOwner, type StoredRunOutput, type WorkerIdentity, type WorkerSupport } from '@chorus/api';
import type { Db, Job } from '@chorus/db';
import { compareWithParent, decodeWav, jobOutputKey } from '@chorus/inference';
import { ObjectNotFoundError, readObject, type ObjectStore } from '@chorus/storage';
import { credentialFromRequest } from '../auth/request-identity.ts';
import { statusOf } from '../auth/http-auth.ts';
import { sendError, sendJson } from './respond.ts';
import { ClientAbortedError, declaredTooLarge, discardRestOfBody, formatMegabytes, isMultipart, readUploadBody, UploadRejection } from './upload-body.ts';

/** The largest output WAV a worker may send: 64 MB is over ten minutes of 48 kHz 16-bit mono. */
export const MAX_WORKER_OUTPUT_BYTES = 64 * 1024 * 1024;

/** What a WAV holds, or why it is not one Chorus can serve as a job's audio (mono PCM or float, 8–192 kHz, not empty). */
export function measureOutputWav(bytes: Uint8Array): { sampleRate: number; durationMs: number } | { problem: string } {
  const riff = bytes.byteLength >= 12 && Buffer.from(bytes.buffer, bytes.byteOffset, 12).toString('latin1');
  if (!riff || !riff.startsWith('RIFF') || riff.slice(8) !== 'WAVE') return { problem: 'the body is not a WAV file (no RIFF/WAVE header)' };
  let decoded: ReturnType<typeof decodeWav>;
  try {
    decoded = decodeWav(bytes);
  } catch (err) {
    return { problem: `the WAV cannot be read (${err instanceof Error ? err.message : String(err)})` };
  }
  if (decoded.channels.length !== 1) return { problem: `the WAV has ${decoded.channels.length} channels; job audio is mono` };
  if (decoded.sampleRate < 8000 || decoded.sampleRate > 192_000) return { problem: `the WAV's sample rate is ${decoded.sampleRate} Hz; 8000–192000 Hz are accepted` };
  const samples = decoded.channels[0]!.length;
  if (samples === 0) return { problem: 'the WAV holds no samples' };
  return { sampleRate: decoded.sampleRate, durationMs: Math.round((samples / decoded.sampleRate) * 1000) };
}

/** The worker API's storage side: what complete reads back, and the re-run comparison the embedded worker uses too. */
export function createWorkerSupport(deps: { db: Db; store: ObjectStore; leaseMs: number }): WorkerSupport {
  return {
    leaseMs: deps.leaseMs,
    async storedOutput(jobId, epoch): Promise<StoredRunOutput | null> {
      const key = jobOutputKey(jobId, epoch);
      let bytes: Buffer;
      try {
        bytes = await readObject(deps.store, key);
      } catch (err) {
        if (err instanceof ObjectNotFoundError) return null;
        throw err;
      }
      const wav = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const measured = measureOutputWav(wav);
      // Only a validated WAV is ever stored under this key; anything else is not an output.
      if ('problem' in measured) return null;
      return { key, sha256: createHash('sha256').update(wav).digest('hex'), bytes: bytes.byteLength, ...measured };
    },
    compareWithParent: (job, sha256) => compareWithParent(deps.db, job, sha256),
  };
}

interface WorkerFileDeps {
  db: Db;
  store: ObjectStore;
  maxOutputBytes?: number;
}

type Access = { ok: true; job: Job; worker: WorkerIdentity } | { ok: false };

/**
 * GET /api/worker/jobs/:id/prompt and PUT /api/worker/jobs/:id/output?epoch=N: the audio a
 * standalone worker reads and writes, for jobs running under a lease of its token (leases are
 * owned by "<workerId>#<tokenId>"). 401/403 like workerApi; 404 no such job; 409 when the lease
 * is not (or no longer) the caller's.
 */
export function createWorkerFileHandlers(deps: WorkerFileDeps) {
  const { db, store } = deps;
  const maxBytes = deps.maxOutputBytes ?? MAX_WORKER_OUTPUT_BYTES;

  /** Answer now; a body still arriving is discarded for a moment, then the connection closes. */
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string): void => {
    discardRestOfBody(req, res);
    sendError(res, status, code, message);
  };

  const deny = (req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string): Access => {
    refuse(req, res, status, code, message);
    return { ok: false };
  };

  /** The job, when the caller is a worker whose token's lease holds it (at `epoch`, when given). */
  const access = async (req: IncomingMessage, res: ServerResponse, jobId: string, epoch?: number): Promise<Access> => {
    const auth = await authorizeWorker(db, credentialFromRequest(req));
    if (!auth.ok) return deny(req, res, statusOf(auth.code), auth.code, auth.message);
    if (!isJobId(jobId)) return deny(req, res, 400, 'BAD_REQUEST', `Malformed job id. ${JOB_ID_RULE}`);
    const job = await db.job.findUnique({ where: { id: jobId } });
    if (!job) return deny(req, res, 404, 'NOT_FOUND', `Job "${jobId}" does not exist (it may have been deleted).`);
    const ours = (owner: string): boolean => workerIdOfLeaseOwner(owner) !== null && owner.endsWith(`#${auth.worker.tokenId}`);
    const check = checkWorkerLease(job, ours, epoch);
    if (check.kind === 'lost') {
      return deny(req, res, 409, 'LEASE_LOST', `Job ${jobId} is no longer running under your lease${epoch === undefined ? '' : ` (epoch ${epoch})`}: it was taken over, given back or ended. Stop the run; nothing more is accepted for it.`);
    }
    if (check.kind === 'refused') return deny(req, res, check.status, check.code === 'CONFLICT' ? 'LEASE_NOT_HELD' : check.code, check.message);
    return { ok: true, job, worker: auth.worker };
  };

  const prompt = async (req: IncomingMessage, res: ServerResponse, jobId: string): Promise<void> => {
    const held = await access(req, res, jobId);
    if (!held.ok) return;
    const { job } = held;
    if (!job.promptUploadId) return sendError(res, 404, 'NO_PROMPT', `Job ${jobId} has no reference audio: its mode (${job.mode}) takes none.`);
    const upload = await db.upload.findUnique({ where: { id: job.promptUploadId } });
    const missing = (): void => sendError(res, 410, 'PROMPT_MISSING', `The reference audio of job ${jobId} (upload ${job.promptUploadId}) is missing from storage; fail the job with PROMPT_MISSING.`);
    if (!upload) return missing();
    const stat = await store.stat(upload.pcmPath);
    if (!stat) return missing();
    let body: Readable;
    try {
      body = await store.get(upload.pcmPath);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return missing();
      throw err;
    }
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': stat.size, 'cache-control': 'no-store', 'x-chorus-upload-id': upload.id, 'x-chorus-upload-sha256': upload.sha256 });
    pipeline(body, res, () => undefined);
  };

  const output = async (req: IncomingMessage, res: ServerResponse, jobId: string): Promise<void> => {
    const raw = new URL(req.url ?? '/', 'http://x').searchParams.get('epoch');
    if (raw === null || !/^\d{1,9}$/.test(raw)) {
      // Authenticate first: a stranger learns nothing about the route's parameters.
      const auth = await authorizeWorker(db, credentialFromRequest(req));
      if (!auth.ok) return refuse(req, res, statusOf(auth.code), auth.code, auth.message);
      return refuse(req, res, 400, 'BAD_REQUEST', `?epoch= is required: the lease epoch workerApi.claim answered with (a whole number), e.g. /api/worker/jobs/${jobId}/output?epoch=1.`);
    }
    const epoch = Number(raw);
    const held = await access(req, res, jobId, epoch);
    if (!held.ok) return;
    if (isMultipart(req)) return refuse(req, res, 415, 'UNSUPPORTED_FORMAT', 'Send the WAV as the raw request body (content-type audio/wav), not as a multipart form.');
    if (declaredTooLarge(req, maxBytes)) return refuse(req, res, 413, 'TOO_LARGE', `The output is larger than the ${formatMegabytes(maxBytes)} limit for one job's audio.`);
    let bytes: Buffer;
    try {
      bytes = (await readUploadBody(req, maxBytes)).bytes;
    } catch (err) {
      if (err instanceof UploadRejection) return refuse(req, res, err.status, err.code, err.status === 413 ? `The output is larger than the ${formatMegabytes(maxBytes)} limit for one job's audio.` : err.message);
      if (err instanceof ClientAbortedError) return void res.destroy();
      throw err;
    }
    const wav = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const measured = measureOutputWav(wav);
    if ('problem' in measured) return refuse(req, res, 415, 'NOT_WAV', `Not stored: ${measured.problem}. Send the job's audio as a mono WAV (PCM or float).`);
    // One key per lease: a run fenced out later can never overwrite the file another run's result points at.
    const key = jobOutputKey(jobId, epoch);
    await store.put(key, wav);
    sendJson(res, 201, { key, sha256: createHash('sha256').update(wav).digest('hex'), bytes: wav.byteLength, ...measured });
  };

  return { prompt, output };
}
