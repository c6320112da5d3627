import fs from 'node:fs';
import { signalGroup } from './process-group.ts';

/** Set in every command's environment to the scratch dir of the Chorus that started it. */
export const SCRATCH_ENV = 'CHORUS_ENGINE_SCRATCH';

/** The process group of a process, from /proc/<pid>/stat ("pid (comm) state ppid pgrp …"). */
function processGroupOf(pid: string): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? null : Number(fields[2]);
  } catch {
    return null; // gone, or not ours to read
  }
}

/**
 * Kill what commands of an earlier run of this Chorus left running: after a kill -9 of the
 * server, a command's own children (and, where setpriv is missing, the command itself) keep
 * going and would hold the GPU while the restarted server runs the same job again. They are
 * found by the scratch dir in their environment; the data-dir lock proves that no live Chorus
 * owns them. Linux only (elsewhere there is no /proc to look in). Returns how many processes
 * were found.
 */
export function killLeftoverCommands(scratchDir: string): number {
  if (process.platform !== 'linux') return 0;
  const marker = `${SCRATCH_ENV}=${scratchDir}\0`;
  const groups = new Set<number>();
  let found = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!`\0${environ}`.includes(`\0${marker}`)) continue;
    const pgid = processGroupOf(pid);
    if (pgid === null) continue;
    found += 1;
    groups.add(pgid);
  }
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  return found;
}
