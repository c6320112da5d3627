/**
 * Node's fetch (undici) fails with `TypeError: fetch failed` (before a response) or
 * `TypeError: terminated` (while reading a body) and hides the real reason in `cause`,
 * sometimes an AggregateError (one error per address tried). This digs it out and says it
 * in words an admin can act on.
 */

export interface NetworkFailure {
  /** The system or undici error code, e.g. ECONNREFUSED, UND_ERR_SOCKET. */
  code: string | null;
  /** What happened, e.g. "connection refused (nothing listens on that port)". */
  reason: string;
  /** undici gave up waiting for response headers (its own 300 s default limit). */
  headersTimeout: boolean;
  /** undici gave up waiting for body data (its own 300 s default limit). */
  bodyTimeout: boolean;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens on that port)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS did not answer)',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed while the request was being sent',
  ETIMEDOUT: 'connecting timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connecting timed out',
  UND_ERR_SOCKET: 'the server closed the connection',
  UND_ERR_CLOSED: 'the connection was closed',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers within Node’s fetch limit (300 s)',
  UND_ERR_BODY_TIMEOUT: 'no response data within Node’s fetch limit (300 s)',
};

function codeOf(err: unknown): string | null {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return null;
}

/** The innermost error that says something: follows `cause` and AggregateError members. */
function rootCause(err: unknown): unknown {
  let current = err;
  for (let depth = 0; depth < 8; depth++) {
    if (current instanceof AggregateError && current.errors.length > 0 && codeOf(current) === null) {
      current = current.errors[0];
      continue;
    }
    if (current instanceof Error && current.cause !== undefined && codeOf(current) === null) {
      current = current.cause;
      continue;
    }
    break;
  }
  return current;
}

export function describeNetworkError(err: unknown): NetworkFailure {
  const root = rootCause(err);
  const code = codeOf(root);
  const message = root instanceof Error ? root.message : String(root);
  let reason = (code && REASONS[code]) ?? message;
  // The Fetch standard forbids some ports (e.g. 1, 6000, 6665–6669, 10080); undici refuses them outright.
  if (message === 'bad port') reason = 'Node’s fetch refuses that port (it is on the Fetch standard’s list of blocked ports); use another port';
  return {
    code,
    reason: code && REASONS[code] && !reason.includes(code) ? `${reason} (${code})` : reason,
    headersTimeout: code === 'UND_ERR_HEADERS_TIMEOUT',
    bodyTimeout: code === 'UND_ERR_BODY_TIMEOUT',
  };
}
