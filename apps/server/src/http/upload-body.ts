import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UploadErrorCode } from '@chorus/api';
import busboy from 'busboy';

/** Multipart framing (boundaries, part headers, a few small fields) allowed on top of the file. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const MB = 1024 * 1024;

/** A request the upload endpoint refuses, with the HTTP status and the upload error code. */
export class UploadRejection extends Error {
  constructor(
    readonly status: number,
    readonly code: UploadErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UploadRejection';
  }
}

/** The client went away before the body was complete: there is nobody to answer. */
export class ClientAbortedError extends Error {
  constructor() {
    super('The client closed the connection before the upload finished.');
    this.name = 'ClientAbortedError';
  }
}

export interface UploadBody {
  bytes: Buffer;
  /** The file name the client gave (multipart filename, Content-Disposition or ?name=), if any. */
  filename: string | null;
}

/** How long a refused request's remaining body is read and dropped before the connection closes. */
const REFUSED_BODY_LINGER_MS = 5000;

/**
 * Call before answering a request whose body may still be arriving: keep discarding (never
 * storing) it for a moment so the client reads the answer instead of a connection reset,
 * then close the connection.
 */
export function discardRestOfBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  res.setHeader('connection', 'close');
  req.unpipe();
  req.on('data', () => {});
  req.on('error', () => {});
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), REFUSED_BODY_LINGER_MS);
  timer.unref();
  req.once('close', () => clearTimeout(timer));
}

export function formatMegabytes(bytes: number): string {
  return `${Number((bytes / MB).toFixed(1))} MB`;
}

export function tooLarge(maxBytes: number): UploadRejection {
  return new UploadRejection(
    413,
    'TOO_LARGE',
    `The file is larger than the ${formatMegabytes(maxBytes)} limit. A voice prompt needs only a few seconds of speech: trim the recording, or export it as FLAC or MP3.`,
  );
}

export function isMultipart(req: IncomingMessage): boolean {
  return /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');
}

/**
 * A Content-Length that is already over the limit (multipart gets room for its framing):
 * refuse before reading a byte.
 */
export function declaredTooLarge(req: IncomingMessage, maxBytes: number): boolean {
  const raw = req.headers['content-length'];
  if (raw === undefined || !/^\d+$/.test(raw)) return false;
  const allowed = isMultipart(req) ? maxBytes + MULTIPART_OVERHEAD_BYTES : maxBytes;
  return Number(raw) > allowed;
}

/**
 * Read the upload: the raw body (any content type but multipart) or the multipart field
 * `file`. Enforces `maxBytes` while streaming — never holds more than maxBytes + 1 bytes of
 * file — and rejects with UploadRejection (TOO_LARGE, BAD_REQUEST) or ClientAbortedError.
 * On rejection the request is left paused and unpiped; the caller answers and closes it.
 */
export function readUploadBody(req: IncomingMessage, maxBytes: number): Promise<UploadBody> {
  return isMultipart(req) ? readMultipart(req, maxBytes) : readRaw(req, maxBytes);
}

function readRaw(req: IncomingMessage, maxBytes: number): Promise<UploadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
      if (err) {
        req.pause();
        reject(err);
      } else {
        resolve({ bytes: Buffer.concat(chunks, size), filename: filenameFromHeaders(req) });
      }
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > maxBytes) return finish(tooLarge(maxBytes));
      chunks.push(chunk);
      size += chunk.length;
    };
    const onEnd = (): void => finish(null);
    const onClose = (): void => finish(req.complete ? null : new ClientAbortedError());
    const onError = (): void => finish(new ClientAbortedError());
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onError);
  });
}

function readMultipart(req: IncomingMessage, maxBytes: number): Promise<UploadBody> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // fileSize + 1: busboy reports the limit on reaching it, and a file of exactly
        // maxBytes is allowed.
        limits: { files: 1, fileSize: maxBytes + 1, fields: 16, fieldSize: 1024, parts: 32, headerPairs: 32 },
      });
    } catch (err) {
      reject(new UploadRejection(400, 'BAD_REQUEST', `The multipart body cannot be read: ${(err as Error).message}.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let received = 0;
    let filename: string | null = null;
    let sawFile = false;
    let fileDone = false;
    let parserDone = false;
    let settled = false;

    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      req.off('data', countBytes);
      req.off('close', onClose);
      req.off('error', onError);
      if (err) {
        req.unpipe(parser);
        req.pause();
        parser.removeAllListeners();
        parser.on('error', () => {}); // late parser errors after we gave up are irrelevant
        parser.destroy();
        reject(err);
        return;
      }
      if (!sawFile) {
        reject(new UploadRejection(400, 'BAD_REQUEST', 'The multipart upload has no "file" field. Send the audio as a form field named "file".'));
        return;
      }
      resolve({ bytes: Buffer.concat(chunks, size), filename });
    };
    const maybeDone = (): void => {
      if (parserDone && (!sawFile || fileDone)) finish(null);
    };
    // Framing is small; a body far beyond the file limit is refused whatever busboy is doing.
    const countBytes = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes + MULTIPART_OVERHEAD_BYTES) finish(tooLarge(maxBytes));
    };
    const onClose = (): void => {
      if (!req.complete) finish(new ClientAbortedError());
    };
    const onError = (): void => finish(new ClientAbortedError());

    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || sawFile) {
        stream.resume();
        return;
      }
      sawFile = true;
      filename = cleanFilename(info.filename);
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      stream.on('limit', () => finish(tooLarge(maxBytes)));
      stream.on('end', () => {
        fileDone = true;
        maybeDone();
      });
    });
    parser.on('error', (err: Error) => finish(new UploadRejection(400, 'BAD_REQUEST', `The multipart body is malformed: ${err.message}.`)));
    parser.on('close', () => {
      parserDone = true;
      maybeDone();
    });
    req.on('data', countBytes);
    req.on('close', onClose);
    req.on('error', onError);
    req.pipe(parser);
  });
}

/** File name from `Content-Disposition: …; filename="x.wav"` or the `name` query parameter. */
function filenameFromHeaders(req: IncomingMessage): string | null {
  const disposition = req.headers['content-disposition'];
  if (disposition) {
    const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
    if (star) {
      try {
        return cleanFilename(decodeURIComponent(star[1]!.trim()));
      } catch {
        // Malformed percent-encoding: fall back to the plain parameter.
      }
    }
    const plain = /filename\s*=\s*(?:"([^"]*)"|([^;]+))/.exec(disposition);
    if (plain) return cleanFilename((plain[1] ?? plain[2] ?? '').trim());
  }
  const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name');
  return cleanFilename(name);
}

/** Keep only the last path segment, without control characters, at most 255 characters. */
function cleanFilename(name: string | null | undefined): string | null {
  if (!name) return null;
  // Control characters are stripped on purpose: the name is shown in UIs and logs.
  // eslint-disable-next-line no-control-regex
  const base = name.split(/[/\\]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base === '' ? null : base.slice(0, 255);
}
