import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { AppRouter } from '@chorus/api';

/** `TRPCProvider` wraps the app; `useTRPC()` gives typed query/mutation/subscription options. */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();
