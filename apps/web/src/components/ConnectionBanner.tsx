import { isReconnecting, useConnectionState } from '../trpc/useConnectionState.ts';

/** Shown while the live-update WebSocket is down and retrying. */
export function ConnectionBanner() {
  const connection = useConnectionState();
  if (!isReconnecting(connection)) return null;
  return (
    <div className="connection-banner" role="status" data-testid="connection-state">
      Reconnecting to live updates…
      {connection.error ? <span className="muted"> ({connection.error.message})</span> : null}
    </div>
  );
}
