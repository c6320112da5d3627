import type { AuthService, Identity } from '@chorus/api';
import type { WebSocket } from 'ws';
import type { Logger } from '../logger.ts';

/** Close code for "your sign-in ended" (4000–4999 are the application's). */
export const SESSION_ENDED_CLOSE = 4401;

/**
 * Keeps open sockets honest: every few seconds, and at once when this process revokes
 * something, the credentials behind live sockets are checked in one batch; sockets whose
 * session or token no longer works (revoked, expired, member deactivated) are closed, which
 * ends their subscriptions. Re-checking on a timer also covers revocations made by another
 * server in scale-out.
 */
export class SocketGuard {
  private readonly sockets = new Map<WebSocket, Identity>();
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  private readonly onRevoked = (): void => void this.check();

  constructor(
    private readonly auth: AuthService,
    recheckMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.check(), recheckMs);
    this.timer.unref();
    auth.revocations.on('revoked', this.onRevoked);
  }

  track(ws: WebSocket, identity: Identity): void {
    this.sockets.set(ws, identity);
    ws.once('close', () => this.sockets.delete(ws));
  }

  async check(): Promise<void> {
    if (this.checking || this.sockets.size === 0) return;
    this.checking = true;
    try {
      const live = [...this.sockets.entries()];
      const ids = (via: Identity['via']): string[] => [...new Set(live.filter(([, i]) => i.via === via).map(([, i]) => i.credentialId))];
      const invalid = await this.auth.invalidCredentials(ids('session'), ids('token'));
      for (const [ws, identity] of live) {
        if (!invalid.has(identity.credentialId)) continue;
        this.sockets.delete(ws);
        this.logger.info({ userId: identity.user.id, via: identity.via }, 'closing a WebSocket whose sign-in ended');
        ws.close(SESSION_ENDED_CLOSE, 'Your session ended; sign in again.');
      }
    } catch (err) {
      this.logger.error({ err }, 'could not re-check WebSocket sign-ins');
    } finally {
      this.checking = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.auth.revocations.off('revoked', this.onRevoked);
  }
}
