/**
 * Job log lines as non-admins may see them: without the engine's command line, the file
 * system layout of the worker machine or process ids. Admins see the stored lines as they are.
 *
 * What carries them (apps/inference): the command engine's debug line
 * `Started ${argv.join(' ')} (pid ${pid}).` (engines/command/run.ts); tracebacks and Python
 * warnings the command prints (`File "/x/y.py", line 12`, `/x/y.py:12: UserWarning`); its
 * last output lines and the runner's logging (model directories, pids of helpers); the
 * worker's `${stage} failed: ${message}` line and engine-health lines, whose messages name
 * the program and its working directory (engines/command/run.ts, probe.ts).
 */

/** The one line that holds the whole argv (engines/command/run.ts, runCommandJob). */
const COMMAND_STARTED = /^Started [\s\S]+ \(pid \d+\)\.$/;

/** `pid 12345`, `PID: 12345`, `(pid=123)`; and torch's "Process 2847 has … memory in use". */
const PID = /\bpid\b\s*[=:#]?\s*\d+/gi;
const PROCESS_NUMBER = /\b((?:sub)?process) \d+\b/gi;

/** A quoted absolute path (traceback frames): it may hold spaces, so the quotes delimit it. */
const QUOTED_PATH = /(["'])((?:[A-Za-z]:[\\/]|\\\\|~?\/)[^"'\n]*)\1/g;

/**
 * Unquoted: a URL (kept as it is, so its path is not taken for a file), a Windows path
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

/** `/opt/cv/cosyvoice.py` → `…/cosyvoice.py`: the file name helps a user, its directory does not. */
function shortenPath(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  const windows = !path.startsWith('/') && !path.startsWith('~');
  const parts = path.split(windows ? /[\\/]/ : '/');
  const base = parts.at(-1) ?? '';
  // Nothing after the last separator, or only a drive: no file name to keep.
  if (base === '' || parts.length < 2 || /^[A-Za-z]:$/.test(base)) return '[path]';
  return `…${windows ? '\\' : '/'}${base}`;
}

/**
 * A job log message safe to show to a non-admin: the command line after `Started ` becomes
 * `[command]`, process ids `[pid]`, absolute paths `…/<file name>` (`[path]` if none).
 * Idempotent, and leaves other text (URLs, fractions, tqdm bars) as it was.
 */
export function redactLogMessage(message: string): string {
  if (COMMAND_STARTED.test(message)) return 'Started [command] ([pid]).';
  return message
    .replace(PID, '[pid]')
    .replace(PROCESS_NUMBER, '$1 [pid]')
    .replace(QUOTED_PATH, (_m, quote: string, path: string) => `${quote}${shortenPath(path)}${quote}`)
    .replace(UNQUOTED, (m) => shortenPath(m));
}
