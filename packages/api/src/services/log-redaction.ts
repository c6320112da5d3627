/**
 * Job log lines as non-admins may see them: without the engine's command line, the file
 * system layout of the worker machine, process ids, credentials or e-mail addresses. Admins
 * see the stored lines as they are.
 *
 * What carries them (apps/inference): the command engine's debug line
 * `Started ${argv.join(' ')} (pid ${pid}).` (engines/command/run.ts); tracebacks and Python
 * warnings the command prints (`File "/x/y.py", line 12`, `/x/y.py:12: UserWarning`); its
 * last output lines and the runner's logging (model directories, pids of helpers, tokens a
 * library echoes); the worker's `${stage} failed: ${message}` line and engine-health lines,
 * whose messages name the program and its working directory (engines/command/run.ts,
 * probe.ts) or a remote engine's URL.
 */

/** The one line that holds the whole argv (engines/command/run.ts, runCommandJob). */
const COMMAND_STARTED = /^Started [\s\S]+ \(pid \d+\)\.$/;

/** `pid 12345`, `PID: 12345`, `(pid=123)`; and torch's "Process 2847 has … memory in use". */
const PID = /\bpid\b\s*[=:#]?\s*\d+/gi;
const PROCESS_NUMBER = /\b((?:sub)?process) \d+\b/gi;

/** A quoted absolute path (traceback frames): it may hold spaces, so the quotes delimit it. */
const QUOTED_PATH = /(["'])((?:[A-Za-z]:[\\/]|\\\\|~?\/)[^"'\n]*)\1/g;

/**
 * Unquoted: a URL (cleaned by cleanUrl, so its path is not taken for a file), a Windows path
 * (drive or UNC) or a POSIX absolute/home path. A path ends at whitespace, quotes, brackets
 * and `,;:` (so `/x/y.py:12: UserWarning` keeps its line number). Not after a word, a dot,
 * `/` or `…`, so fractions ("it/s", "3/4") and already-redacted paths are left alone.
 */
const UNQUOTED = new RegExp(
  [
    String.raw`\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+`,
    String.raw`(?<![\w\\…])(?:[A-Za-z]:[\\/]|\\\\)[^\s"'<>|?*,;:()[\]{}]+`,
    String.raw`(?<![\w.:/\\~…])~?\/[^\s"'<>|?*,;:()[\]{}/]+(?:\/[^\s"'<>|?*,;:()[\]{}/]*)*`,
  ].join('|'),
  'gi',
);

/** scheme://, authority (userinfo@host:port), path, then the query and fragment. */
const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)([\s\S]*)$/i;

/** Sentence punctuation that closes a URL's query in a message ("…?key=x)."), kept after it. */
const TRAILING_PUNCTUATION = /[).,;:!\]]*$/;

/**
 * A URL without its credentials: userinfo (`user:password@`), query and fragment go,
 * scheme://host:port/path stays, so the reader still sees which service and endpoint. The
 * path of a network URL is an endpoint, not the worker's file system, so it is kept; only a
 * `file:` URL's path is a file path and is shortened like one.
 */
function cleanUrl(url: string): string {
  const parts = URL_PARTS.exec(url);
  if (!parts) return url;
  const [, scheme = '', authority = '', path = '', rest = ''] = parts;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  const trailing = rest === '' ? '' : (TRAILING_PUNCTUATION.exec(rest)?.[0] ?? '');
  if (/^file:/i.test(scheme)) {
    // Already shortened (`file://…/x.py`): leave it, so the redaction stays idempotent.
    const local = host.startsWith('…') ? host + path : shortenPath(path || '/');
    return `${scheme}${local}${trailing}`;
  }
  return `${scheme}${host}${path}${trailing}`;
}

/** `/opt/cv/cosyvoice.py` → `…/cosyvoice.py`: the file name helps a user, its directory does not. */
function shortenPath(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return cleanUrl(path);
  const windows = !path.startsWith('/') && !path.startsWith('~');
  const parts = path.split(windows ? /[\\/]/ : '/');
  const base = parts.at(-1) ?? '';
  // Nothing after the last separator, or only a drive: no file name to keep.
  if (base === '' || parts.length < 2 || /^[A-Za-z]:$/.test(base)) return '[path]';
  return `…${windows ? '\\' : '/'}${base}`;
}

const MASK = '[redacted]';

/**
 * `key=value`, `key: value`, `"key": "value"` whose key names a secret (`token`, `HF_TOKEN`,
 * `client_secret`, `db_password`, `x-api-key`, `Authorization`…): the value is masked, with an
 * auth scheme before it (`Authorization: Bearer x`). A key must end in the word (or `…_key`),
 * so counts such as `max_new_tokens=2048` or `token_hop_len=25` stay readable.
 */
const SECRET_PAIR = new RegExp(
  String.raw`(?<![\w-])([\w-]*?(?:token|secret|passwd|password|api[_-]?key|authorization|bearer)(?:[_-]?key)?)(["']?\s*[=:]\s*)(["']?)(?!\[redacted\])(?:(?:bearer|basic|token)\s+)?[^\s"'<>,;&)\]}]+`,
  'gi',
);

/** `Bearer <token>` anywhere else (a curl line, a header dump). */
const BEARER = /\b(bearer)\s+(?!\[redacted\])[A-Za-z0-9._~+/-]+=*/gi;

/** Hugging Face (`hf_…`) and Chorus (`chorus_pat_…`) tokens by their prefix; `hf_hub_download` is no token. */
const PREFIXED_TOKEN = /\b(hf_|chorus_pat_)(?!\[redacted\])[A-Za-z0-9]{10,}[A-Za-z0-9_-]*\b/g;

/** name@domain (a domain starting with a letter, so `numpy@1.26` pins stay). */
const EMAIL = /(?<![\w.+-])[\w.+-]+@[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*/g;

/**
 * A job log message safe to show to a non-admin: the command line after `Started ` becomes
 * `[command]`, process ids `[pid]`, absolute paths `…/<file name>` (`[path]` if none), URLs
 * lose userinfo, query and fragment (see cleanUrl), secret values (see SECRET_PAIR, BEARER,
 * PREFIXED_TOKEN) become `[redacted]` and e-mail addresses `[email]`. Idempotent, and leaves
 * other text (fractions, tqdm bars, token counts) as it was.
 */
export function redactLogMessage(message: string): string {
  if (COMMAND_STARTED.test(message)) return 'Started [command] ([pid]).';
  return message
    .replace(PID, '[pid]')
    .replace(PROCESS_NUMBER, '$1 [pid]')
    .replace(QUOTED_PATH, (_m, quote: string, path: string) => `${quote}${shortenPath(path)}${quote}`)
    .replace(UNQUOTED, (m) => shortenPath(m))
    .replace(SECRET_PAIR, `$1$2$3${MASK}`)
    .replace(BEARER, `$1 ${MASK}`)
    .replace(PREFIXED_TOKEN, `$1${MASK}`)
    .replace(EMAIL, '[email]');
}
