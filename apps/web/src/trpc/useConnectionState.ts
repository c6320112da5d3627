import { useSyncExternalStore } from 'react';
import { wsClient } from './links.ts';

export type ConnectionState = ReturnType<typeof wsClient.connectionState.get>;

function subscribe(onChange: () => void): () => void {
  const subscription = wsClient.connectionState.subscribe({ next: onChange });
  return () => subscription.unsubscribe();
}

const getSnapshot = (): ConnectionState => wsClient.connectionState.get();

/**
 * The WebSocket's state: `idle` (nothing open), `connecting` (first connect, or reconnecting
 * when `error` is set), `pending` (open).
 */
export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/** True while the socket dropped and the client is trying to get it back. */
export function isReconnecting(state: ConnectionState): boolean {
  return state.state === 'connecting' && state.error !== null;
}
