import { initTRPC } from '@trpc/server';
import { ZodError } from 'zod';
import type { ApiDeps } from './ports.ts';
import type { JobEventLog } from './services/job-event-log.ts';

/** One shared JobEventLog per process: it serialises appends per job for worker and API alike. */
export type ApiContext = ApiDeps & { events: JobEventLog };

/** "mode: Unknown mode …; text: Text is required." — readable by people and by curl users. */
function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

// Plain JSON on the wire (no transformer) so curl and non-TypeScript clients can call the API.
const t = initTRPC.context<ApiContext>().create({
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : null;
    return {
      ...shape,
      message: zodError ? describeZodError(zodError) : shape.message,
      data: {
        ...shape.data,
        // Stacks stay in the server log; clients get the message and code.
        stack: undefined,
        zodIssues: zodError ? zodError.issues.map((i) => ({ path: i.path.map(String), message: i.message })) : null,
      },
    };
  },
});

export const createRouter = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
