import fs from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../../engine/engine.ts';

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where argv[0] would be found when spawned: a name with a slash is a path relative to the
 * working directory; a bare name is looked up on PATH (the command's own PATH, if its env
 * sets one). Returns null if there is no executable file there.
 */
export async function resolveExecutable(program: string, cwd: string, envPath: string | undefined): Promise<string | null> {
  if (program.includes('/')) {
    const file = path.resolve(cwd, program);
    return (await isExecutableFile(file)) ? file : null;
  }
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.resolve(cwd, dir, program);
    if (await isExecutableFile(file)) return file;
  }
  return null;
}

/** Reject with ENGINE_UNAVAILABLE unless the working directory exists and the program is executable. Runs nothing. */
export async function probeCommand(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const dir = await fs.stat(cwd).catch(() => null);
  if (!dir?.isDirectory()) {
    throw new EngineError('ENGINE_UNAVAILABLE', `The command's working directory ${cwd} does not exist.`, 'An admin should fix "cwd" in the engine configuration.');
  }
  const program = argv[0]!;
  const found = await resolveExecutable(program, cwd, env.PATH);
  signal.throwIfAborted();
  if (!found) {
    throw new EngineError(
      'ENGINE_UNAVAILABLE',
      program.includes('/') ? `The command's program ${program} does not exist or is not executable.` : `The command's program "${program}" is not on PATH.`,
      'An admin should install it or fix "command" in the engine configuration.',
    );
  }
}
