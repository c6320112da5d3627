import { useEffect } from 'react';
import { replaceRoute } from '../router/hashRouter.ts';

/** Moves to `to` (replacing this history entry) and shows nothing meanwhile. */
export function Redirect({ to }: { to: string }) {
  useEffect(() => replaceRoute(to), [to]);
  return null;
}
