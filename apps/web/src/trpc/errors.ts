import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@chorus/api';

export type TrpcErrorCode = NonNullable<TRPCClientError<AppRouter>['data']>['code'];

/** The tRPC error code of a failed call ("UNAUTHORIZED", "FORBIDDEN", …), or null for anything else. */
export function trpcErrorCode(error: unknown): TrpcErrorCode | null {
  return error instanceof TRPCClientError ? ((error as TRPCClientError<AppRouter>).data?.code ?? null) : null;
}

/** Refusals a retry cannot change: the request or the caller's rights are the problem. */
const FINAL_CODES: ReadonlySet<string> = new Set([
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'TOO_MANY_REQUESTS',
  'PARSE_ERROR',
  'METHOD_NOT_SUPPORTED',
  'UNPROCESSABLE_CONTENT',
  'PAYLOAD_TOO_LARGE',
]);

export function isFinalError(error: unknown): boolean {
  const code = trpcErrorCode(error);
  return code !== null && FINAL_CODES.has(code);
}

/** The message to show for a failed call: the server's own words. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
