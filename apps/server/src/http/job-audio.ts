import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { isJobId, JOB_ID_RULE, jobAccessDenial } from '@chorus/api';
import type { Db } from '@chorus/db';
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

/** GET /api/jobs/:id/audio — the finished WAV, with Range support and a download filename. */
export function createJobAudioHandler(deps: { db: Db; dataDir: string; authenticate: HttpAuthenticator }) {
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
    const file = path.join(deps.dataDir, job.outputPath);
    let size: number;
    try {
      size = (await fs.promises.stat(file)).size;
    } catch {
      return sendError(res, 410, 'AUDIO_MISSING', `The audio file of job "${jobId}" is missing from the data directory.`);
    }
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
    if (range) {
      res.writeHead(206, { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': range.end - range.start + 1 });
      if (req.method === 'HEAD') return void res.end();
      // pipeline closes the file if the player aborts the range (they often do).
      pipeline(fs.createReadStream(file, { start: range.start, end: range.end }), res, () => undefined);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': size });
    if (req.method === 'HEAD') return void res.end();
    pipeline(fs.createReadStream(file), res, () => undefined);
  };
}
