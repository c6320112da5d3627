import { useQuery } from '@tanstack/react-query';
import { useCurrentUser } from '../../auth/CurrentUser.ts';
import { useTRPC } from '../../trpc/context.ts';

/** "mine", "everyone", or one person's id (everyone with an account, from auth.people). */
export type PersonChoice = string;

export function PersonFilter({ value, onChange }: { value: PersonChoice; onChange: (value: PersonChoice) => void }) {
  const trpc = useTRPC();
  const me = useCurrentUser();
  const people = useQuery(trpc.auth.people.queryOptions(undefined, { staleTime: 60_000 }));
  const others = (people.data ?? []).filter((p) => p.id !== me.id);
  return (
    <div className="field inline">
      <label htmlFor="history-person">Created by</label>
      <select id="history-person" value={value} onChange={(e) => onChange(e.target.value)} data-testid="history-person">
        <option value="everyone">Everyone</option>
        <option value="mine">Me</option>
        {others.length > 0 ? (
          <optgroup label="A person">
            {others.map((p) => (
              <option key={p.id} value={p.id}>
                {p.active ? p.name : `${p.name} (deactivated)`}
              </option>
            ))}
          </optgroup>
        ) : null}
      </select>
    </div>
  );
}
