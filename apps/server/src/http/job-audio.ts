import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { isJobId, JOB_ID_RULE, jobAccessDenial } from '@chorus/api';
import type { Db } from '@chorus/db';
import { ObjectNotFoundError, type ObjectStore } from '@chorus/storage';
import { statusOf, type HttpAuthenticator } from '../auth/http-auth.ts';
import { sendError } from './respond.ts';

/** Parse a single "bytes=a-b" range; multi-range requests get the whole file (allowed by RFC 9110). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** GET /api/jobs/:id/audio — the finished WAV from the object store, with Range support and a download filename. */
export function createJobAudioHandler(deps: { db: Db; store: ObjectStore; authenticate: HttpAuthenticator }) {
  return async (req: IncomingMessage, res: ServerResponse, jobId: string): Promise<void> => {
    const access = await deps.authenticate(req, 'viewer');
    if (!access.ok) return sendError(res, statusOf(access.code), access.code, access.message);
    if (!isJobId(jobId)) return sendError(res, 400, 'BAD_REQUEST', `Malformed job id. ${JOB_ID_RULE}`);
    const job = await deps.db.job.findUnique({ where: { id: jobId } });
    if (!job) return sendError(res, 404, 'NOT_FOUND', `Job "${jobId}" does not exist.`);
    const denial = jobAccessDenial(access.identity.user, job, 'read');
    if (denial) return sendError(res, 403, 'FORBIDDEN', denial);
    if (job.status !== 'succeeded' || !job.outputPath) {
      return sendError(res, 404, 'NO_AUDIO', `Job "${jobId}" has no audio: it is ${job.status}.`);
    }
    const key = job.outputPath;
    const missing = (): void => sendError(res, 410, 'AUDIO_MISSING', `The audio file of job "${jobId}" is missing from storage.`);
    const stored = await deps.store.stat(key);
    if (!stored) return missing();
    const size = stored.size;
    const url = new URL(req.url ?? '/', 'http://x');
    const headers: Record<string, string | number> = {
      'content-type': 'audio/wav',
      'accept-ranges': 'bytes',
      // Output of a job never changes once written.
      'cache-control': 'private, max-age=31536000, immutable',
      etag: `"${job.outputSha256 ?? job.id}"`,
      'content-disposition': `${url.searchParams.has('download') ? 'attachment' : 'inline'}; filename="chorus-${job.id}-seed${job.seed}.wav"`,
    };
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    const status = range ? 206 : 200;
    const length = range ? range.end - range.start + 1 : size;
    const rangeHeaders = range ? { 'content-range': `bytes ${range.start}-${range.end}/${size}` } : {};
    if (req.method === 'HEAD') {
      res.writeHead(status, { ...headers, ...rangeHeaders, 'content-length': length });
      return void res.end();
    }
    // Opened before the status line, so an object deleted since the stat is still a 410.
    let body: Readable;
    try {
      body = await deps.store.get(key, range ?? undefined);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return missing();
      throw err;
    }
    res.writeHead(status, { ...headers, ...rangeHeaders, 'content-length': length });
    // pipeline closes the object stream if the player aborts the range (they often do).
    pipeline(body, res, () => undefined);
  };
}
