import fs from 'node:fs';

/** This worker's version, as the server's workers page shows it (the package version). */
export const WORKER_VERSION: string = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
