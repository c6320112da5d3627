import { errorRef } from '@chorus/api';
import type { TRPCError } from '@trpc/server';
import type { Logger } from './logger.ts';

export type TrpcErrorLogger = (opts: { error: TRPCError; path?: string | undefined; type: string }) => void;

/**
 * Every tRPC error, over HTTP or WebSocket, reaches the log the same way: internal ones with
 * their cause and the ref the client was told; the client's own mistakes at info level.
 */
export function createTrpcErrorLogger(logger: Logger, transport: 'http' | 'ws'): TrpcErrorLogger {
  return ({ error, path, type }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') {
      logger.error({ err: error.cause ?? error, ref: errorRef(error), path, type, transport }, 'internal error in a tRPC call');
    } else {
      logger.info({ code: error.code, path, type, transport, reason: error.message.slice(0, 300) }, 'tRPC call refused');
    }
  };
}
