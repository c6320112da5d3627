import type { LogLevel } from '@chorus/api/schemas';

export interface PythonLogLine {
  level: LogLevel;
  message: string;
}

const LEVELS: Record<string, LogLevel> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
  FATAL: 'error',
};
const LEVEL = '(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)';

/** logging's default format (basicConfig without a format): "LEVEL:logger:message". */
const DEFAULT_FORMAT = new RegExp(`^${LEVEL}:([^:\\s]*):(.*)$`);
/** A timestamp first ("2025-01-01 12:00:00,123", ISO, optionally in brackets), then the rest. */
const TIMESTAMP = /^\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?(?=[\s\-|:[])/;
/**
 * After the timestamp: "LEVEL message", "[LEVEL] message", "- name - LEVEL - message",
 * "name LEVEL message" is not recognised (too loose), "LEVEL: message" is.
 */
const AFTER_TIMESTAMP = new RegExp(`^[\\s\\-|:]*(?:([\\w.\\-]+)\\s+-\\s+)?\\[?${LEVEL}\\]?(?=[\\s:\\-|]|$)[\\s:\\-|]*(.*)$`, 's');
/** "[WARNING] message" or "[WARNING/name] message". */
const BRACKETED = new RegExp(`^\\[${LEVEL}(?:[/:]([^\\]]*))?\\]\\s*(.*)$`, 's');
/** uvicorn-style "INFO:     message" (a colon then spaces, no logger name). */
const COLON_SPACES = new RegExp(`^${LEVEL}:\\s+(.*)$`, 's');
/** The warnings module: "/path/file.py:12: UserWarning: message". */
const PY_WARNING = /^.+?\.py:\d+: \w*Warning: .*$/;

function named(name: string | undefined, message: string): string {
  return name && name !== 'root' ? `${name}: ${message}` : message;
}

/**
 * A Python logging line in one of the common shapes, with its level mapped to ours
 * (DEBUG→debug, INFO→info, WARNING/WARN→warn, ERROR/CRITICAL/FATAL→error), the timestamp
 * dropped and the logger's name kept unless it is the root logger. Null for other lines.
 */
export function parsePythonLogLine(line: string): PythonLogLine | null {
  let m = DEFAULT_FORMAT.exec(line);
  if (m) return { level: LEVELS[m[1]!]!, message: named(m[2], m[3]!) };
  const ts = TIMESTAMP.exec(line);
  if (ts) {
    m = AFTER_TIMESTAMP.exec(line.slice(ts[0].length));
    if (m) return { level: LEVELS[m[2]!]!, message: named(m[1], m[3]!) };
    return null;
  }
  m = BRACKETED.exec(line);
  if (m) return { level: LEVELS[m[1]!]!, message: named(m[2], m[3]!) };
  m = COLON_SPACES.exec(line);
  if (m) return { level: LEVELS[m[1]!]!, message: m[2]! };
  if (PY_WARNING.test(line)) return { level: 'warn', message: line };
  return null;
}
