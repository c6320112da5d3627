import type { IncomingMessage } from 'node:http';
import { authorize, type AuthService, type Authorization, type Role } from '@chorus/api';
import { credentialFromRequest } from './request-identity.ts';

/** The plain HTTP routes (uploads, audio) use the same credentials and rule as tRPC. */
export function createHttpAuthenticator(auth: AuthService) {
  return (req: IncomingMessage, min: Role): Promise<Authorization> => {
    const credential = credentialFromRequest(req);
    return authorize(auth, credential, () => (credential ? auth.resolve(credential) : Promise.resolve(null)), min);
  };
}

export type HttpAuthenticator = ReturnType<typeof createHttpAuthenticator>;

export const statusOf = (code: 'UNAUTHORIZED' | 'FORBIDDEN'): number => (code === 'UNAUTHORIZED' ? 401 : 403);
