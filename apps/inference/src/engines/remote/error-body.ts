/**
 * Reading what a remote runtime says when it refuses or fails: Python tracebacks (a
 * Starlette/FastAPI app in debug mode answers 500 with the traceback as text/plain),
 * FastAPI's validation detail and Triton's `{"error": "..."}`.
 */

/** Error bodies are read up to this many bytes; a traceback's last line is what matters. */
export const ERROR_BODY_LIMIT = 64 * 1024;

const TRACEBACK_START = 'Traceback (most recent call last):';

/**
 * The exception line of the last Python traceback in `text` (e.g. "AssertionError: wav
 * sample rate 8000 must be greater than 16000"), or null when the text holds no traceback.
 * Frames are indented; the first unindented line after them is the exception.
 */
export function pythonExceptionLine(text: string): string | null {
  const start = text.lastIndexOf(TRACEBACK_START);
  if (start < 0) return null;
  const lines = text.slice(start + TRACEBACK_START.length).split(/\r?\n/);
  let exception: string | null = null;
  for (const line of lines) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      if (exception !== null) break;
      continue;
    }
    // A multi-line exception message continues unindented; the first line names the error.
    if (exception === null) exception = line.trim();
    else break;
  }
  return exception;
}

/** FastAPI's 422/4xx body: `{"detail": [{loc, msg, type}, …]}` or `{"detail": "text"}`, as one line. */
export function fastApiDetail(text: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null || !('detail' in body)) return null;
  const { detail } = body;
  if (typeof detail === 'string') return detail;
  if (!Array.isArray(detail)) return null;
  const parts = detail.map((item: unknown) => {
    if (typeof item !== 'object' || item === null) return String(item);
    const loc = 'loc' in item && Array.isArray(item.loc) ? item.loc.filter((p: unknown) => p !== 'body').join('.') : '';
    const msg = 'msg' in item && typeof item.msg === 'string' ? item.msg : JSON.stringify(item);
    return loc ? `${loc}: ${msg}` : msg;
  });
  return parts.length > 0 ? parts.join('; ') : null;
}

/** Triton's error body `{"error": "..."}`, or null. */
export function tritonErrorMessage(text: string): string | null {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string') return body.error;
  } catch {
    // Not JSON: not Triton's error format.
  }
  return null;
}

/** One line of at most `max` characters, for messages built from remote text. */
export function clip(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The text with its first letter upper-case (messages that start with a target description). */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
