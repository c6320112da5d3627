import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { requestPath, safeDecode } from './request-router.ts';
import { sendError } from './respond.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.wav': 'audio/wav',
};

/** Serves the built web app; unknown paths fall back to index.html (client-side routing). */
export function createStaticHandler(root: string) {
  const index = path.join(root, 'index.html');
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = requestPath(req.url);
    const pathname = raw === null ? null : safeDecode(raw);
    if (pathname === null) return sendError(res, 400, 'BAD_REQUEST', 'The request path is malformed.');
    const candidate = path.resolve(root, '.' + pathname);
    const inside = candidate.startsWith(root + path.sep);
    let file = index;
    if (inside) {
      const stat = await fs.promises.stat(candidate).catch(() => null);
      if (stat?.isFile()) file = candidate;
    }
    const stat = await fs.promises.stat(file).catch(() => null);
    if (!stat) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The web app is not built (${index} is missing). Run "pnpm build" or "pnpm start".`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': stat.size,
      // Vite fingerprints assets; index.html must always be revalidated.
      'cache-control': file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    // pipeline closes the file when the client goes away and turns a read error into a closed response.
    pipeline(fs.createReadStream(file), res, () => undefined);
  };
}
