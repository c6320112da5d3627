/**
 * Two app-wide events that come from outside React (the query cache, the WebSocket client,
 * the upload fetch) and are handled by the auth gate, which knows the query keys:
 * - `sessionMaybeLost`: a call was refused as UNAUTHORIZED, or the socket dropped: ask
 *   auth.status whether we are still signed in.
 * - `sessionEnded`: the server closed the socket because the sign-in ended (code 4401).
 */
type Listener = () => void;

function createSignal() {
  const listeners = new Set<Listener>();
  return {
    emit(): void {
      for (const listener of [...listeners]) listener();
    },
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export const sessionMaybeLost = createSignal();
export const sessionEnded = createSignal();
