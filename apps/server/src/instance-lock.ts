import fs from 'node:fs';
import path from 'node:path';

/** Data directories this process holds (its own pid in a file is otherwise a stale leftover of pid reuse). */
const held = new Set<string>();

/** True if a process with this pid exists (signal 0 only checks). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded default has one worker per data directory: a second Chorus on the same
 * files would "recover" the first one's running jobs. A pid file claims the directory;
 * a file left by a dead process is taken over.
 */
export function lockDataDir(dataDir: string): { release(): void } {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'chorus.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      held.add(file);
      return {
        release() {
          held.delete(file);
          if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      const ownedHere = owner === process.pid && held.has(file);
      if (ownedHere || (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner))) {
        throw new Error(`Another Chorus (pid ${owner}) is using ${dataDir}. Stop it first, or give this one its own CHORUS_DATA_DIR and DATABASE_URL.`);
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`Could not claim ${dataDir} (${file} keeps reappearing).`);
}
