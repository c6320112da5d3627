import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.ts';

/** Open a raw WebSocket with a given Origin; resolve 'open' or the HTTP status it was refused with. */
function tryUpgrade(url: string, origin?: string): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe('WebSocket Origin allow-list', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ CHORUS_ALLOWED_ORIGINS: 'https://studio.example.com' });
  });
  afterAll(async () => h?.stop());

  it('refuses a foreign Origin with 403', async () => {
    const wsUrl = h.url.replace('http', 'ws') + '/trpc';
    expect(await tryUpgrade(wsUrl, 'https://evil.example.net')).toBe(403);
  });
  it('accepts the same origin, a configured origin, and non-browser clients without Origin', async () => {
    const wsUrl = h.url.replace('http', 'ws') + '/trpc';
    expect(await tryUpgrade(wsUrl, h.url)).toBe('open');
    expect(await tryUpgrade(wsUrl, 'https://studio.example.com')).toBe('open');
    expect(await tryUpgrade(wsUrl)).toBe('open');
  });
  it('answers upgrades on other paths with 404', async () => {
    expect(await tryUpgrade(h.url.replace('http', 'ws') + '/elsewhere', h.url)).toBe(404);
  });
});
