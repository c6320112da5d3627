import type { AuthService, Identity } from '@chorus/api';
import type { WebSocket } from 'ws';
import type { Logger } from '../logger.ts';

/** Close code for "your sign-in ended" (4000–4999 are the application's). */
export const SESSION_ENDED_CLOSE = 4401;
/** Close code for "your role changed": the client reconnects and re-reads its role. */
export const ROLE_CHANGED_CLOSE = 4403;

/**
 * Keeps open sockets honest: every few seconds, and at once when this process revokes
 * something or changes a role, the credentials behind live sockets are checked in one batch;
 * sockets whose session or token no longer works (revoked, expired, member deactivated) are
 * closed, and so are sockets whose person now has another role than the one the socket was
 * opened with (its subscriptions were authorised for the old role). Re-checking on a timer
 * also covers changes made by another server in scale-out.
 */
export class SocketGuard {
  private readonly sockets = new Map<WebSocket, Identity>();
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  /** A check was asked for while one ran: run another right after, so a revocation mid-check is not left for the next tick. */
  private again = false;
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
    // `on`, not `once`: close fires once anyway, and `once` allocates a wrapper and its state per socket.
    ws.on('close', () => this.sockets.delete(ws));
  }

  /** Whether this socket has signed in (its tRPC context was created). */
  isTracked(ws: WebSocket): boolean {
    return this.sockets.has(ws);
  }

  async check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return;
    }
    if (this.sockets.size === 0) return;
    this.checking = true;
    try {
      const live = [...this.sockets.entries()];
      const ids = (via: Identity['via']): string[] => [...new Set(live.filter(([, i]) => i.via === via).map(([, i]) => i.credentialId))];
      const invalid = await this.auth.invalidCredentials(ids('session'), ids('token'));
      for (const [ws, identity] of live) {
        if (invalid.has(identity.credentialId)) {
          this.sockets.delete(ws);
          this.logger.info({ userId: identity.user.id, via: identity.via }, 'closing a WebSocket whose sign-in ended');
          ws.close(SESSION_ENDED_CLOSE, 'Your session ended; sign in again.');
          continue;
        }
        const role = invalid.roles.get(identity.credentialId);
        if (role !== undefined && role !== identity.user.role) {
          this.sockets.delete(ws);
          this.logger.info({ userId: identity.user.id, via: identity.via, from: identity.user.role, to: role }, 'closing a WebSocket whose role changed');
          ws.close(ROLE_CHANGED_CLOSE, `Your role changed to ${role}; reconnect to continue.`);
        }
      }
    } catch (err) {
      this.logger.error({ err }, 'could not re-check WebSocket sign-ins');
    } finally {
      this.checking = false;
      if (this.again) {
        this.again = false;
        void this.check();
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.auth.revocations.off('revoked', this.onRevoked);
  }
}
