import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { killLeftoverCommands } from '../src/engines/command/leftover-commands.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures', 'parent-death');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
};

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe.runIf(process.platform === 'linux')('a command engine job when its server is killed with SIGKILL', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-parent-death-'));
  const scratchDir = path.join(dir, 'data', 'scratch');
  const pids: number[] = [];
  afterAll(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the command dies with it (parent-death signal), and the start-up sweep kills what the command started', async () => {
    const pidFile = path.join(dir, 'pids');
    const host = spawn(process.execPath, ['--import', 'tsx', path.join(fixtures, 'host.ts'), scratchDir, path.join(fixtures, 'engine_with_child.py'), pidFile], { stdio: 'ignore' });
    pids.push(host.pid!);
    await until('the engine command to start', () => fs.existsSync(pidFile), 30_000);
    const [command, grandchild] = fs.readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) as [number, number];
    pids.push(command, grandchild);
    expect(alive(command) && alive(grandchild)).toBe(true);

    host.kill('SIGKILL');
    // The kernel sends the command SIGKILL as its parent dies: no exit hook is needed.
    await until('the command to die with its server', () => !alive(command), 5_000);
    // What the command started is not covered by that signal and is still running…
    expect(alive(grandchild)).toBe(true);
    // …until the next start sweeps this data directory's engine processes.
    expect(killLeftoverCommands(scratchDir)).toBe(1);
    await until('the orphaned child to be killed', () => !alive(grandchild), 5_000);
    // Another data directory's processes are not touched (nothing left to find either).
    expect(killLeftoverCommands(path.join(dir, 'other', 'scratch'))).toBe(0);
  });
});
