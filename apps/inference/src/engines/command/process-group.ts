import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveExecutable } from './probe.ts';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const POLL_MS = 25;
/** After SIGKILL the kernel needs a moment to take a process group down; wait at most this long. */
const KILL_SETTLE_MS = 5000;

/** Process groups of commands still running, killed if this Node process exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A spawned command is detached (its own process group), so it would outlive us.
  process.on('exit', () => {
    for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  });
}

/** util-linux's setpriv runs a program with PR_SET_PDEATHSIG: the kernel kills it when we die, even by kill -9. */
const SETPRIV = '/usr/bin/setpriv';
let setprivAvailable: boolean | undefined;
function hasSetpriv(): boolean {
  if (setprivAvailable === undefined) {
    try {
      fs.accessSync(SETPRIV, fs.constants.X_OK);
      setprivAvailable = process.platform === 'linux';
    } catch {
      setprivAvailable = false;
    }
  }
  return setprivAvailable;
}

/**
 * The argv to spawn: the command under setpriv's parent-death signal when the program can be
 * found (else as it is, so a missing or non-executable program gets spawn's own error).
 */
async function withParentDeathSignal(argv: readonly string[], cwd: string | undefined, env: NodeJS.ProcessEnv): Promise<readonly string[]> {
  if (!hasSetpriv()) return argv;
  const program = await resolveExecutable(argv[0]!, cwd ?? process.cwd(), env.PATH);
  return program ? [SETPRIV, '--pdeathsig', 'SIGKILL', '--', program, ...argv.slice(1)] : argv;
}

/** Send a signal to every process in the group; false if the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    // EPERM: a member exists but is not ours to signal (it still exists).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a process of the group is still running. A zombie does not count: it is dead and
 * only waits to be reaped, which for orphaned grandchildren is up to PID 1 (in some
 * containers that takes seconds). On Linux /proc tells zombies apart; elsewhere any member
 * counts.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  try {
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // exited while we looked
      }
      // "pid (comm) state ppid pgrp …"; comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
    }
    return false;
  } catch {
    return true;
  }
}

/**
 * A command started in its own process group (`detached`), so that cancel and timeout can
 * end the command and everything it started with one signal. It dies with this process
 * (setpriv's parent-death signal); what it started is swept at the next start
 * (leftover-commands.ts).
 */
export class GroupProcess {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  /** Resolves when stdout and stderr are closed (every writer in the tree is gone). */
  readonly closed: Promise<void>;
  private exitStatus: ExitStatus | undefined;
  private terminating: Promise<void> | undefined;

  private constructor(readonly child: ChildProcess) {
    this.pid = child.pid!;
    liveGroups.add(this.pid);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
    void this.closed.then(() => {
      if (!groupAlive(this.pid)) liveGroups.delete(this.pid);
    });
  }

  /** Spawn argv; rejects with the spawn error (ENOENT, EACCES, …) if it could not start. */
  static async start(command: readonly string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<GroupProcess> {
    installExitHook();
    const argv = await withParentDeathSignal(command, options.cwd, options.env);
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (err) {
        reject(err);
        return;
      }
      const onError = (err: Error): void => reject(err);
      child.once('error', onError);
      child.once('spawn', () => {
        child.off('error', onError);
        // Later errors (e.g. a failed kill) must not become unhandled 'error' events.
        child.on('error', () => undefined);
        resolve(new GroupProcess(child));
      });
    });
  }

  get hasExited(): boolean {
    return this.exitStatus !== undefined;
  }

  /** Whether any process of the command's group is still running. */
  get alive(): boolean {
    return groupAlive(this.pid);
  }

  /**
   * End the whole process group: SIGTERM, then SIGKILL after graceMs if anything is left.
   * Resolves once no process of the group is left and the output pipes are closed.
   * Idempotent: later calls share the first one's promise.
   */
  terminate(graceMs: number): Promise<void> {
    this.terminating ??= this.doTerminate(graceMs);
    return this.terminating;
  }

  private async doTerminate(graceMs: number): Promise<void> {
    if (signalGroup(this.pid, 'SIGTERM')) {
      const termDeadline = Date.now() + graceMs;
      while (groupAlive(this.pid) && Date.now() < termDeadline) await sleep(POLL_MS);
      if (signalGroup(this.pid, 'SIGKILL')) {
        const killDeadline = Date.now() + KILL_SETTLE_MS;
        while (groupAlive(this.pid) && Date.now() < killDeadline) await sleep(POLL_MS);
      }
    }
    // With the group gone nothing holds the pipes open any more.
    await Promise.race([this.closed, sleep(KILL_SETTLE_MS, undefined, { ref: false })]);
    if (!groupAlive(this.pid)) liveGroups.delete(this.pid);
  }
}
