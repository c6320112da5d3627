import type { AppendOutcome, AppendRequest, LeaseFence } from './store.ts';

/** Most events one merged append carries (one UPDATE, one run of INSERT rows). */
const MAX_MERGED_EVENTS = 512;

export interface MergedAppend {
  request: AppendRequest;
  /** Indexes of the original requests it stands for, in order, and how many events each brought. */
  members: { index: number; count: number }[];
}

const sameStatuses = (a: AppendRequest['expectStatus'], b: AppendRequest['expectStatus']): boolean =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((s, i) => s === b[i]));

const sameLease = (a: LeaseFence | undefined, b: LeaseFence | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.epoch === b.epoch && a.owner === b.owner && a.expiredBefore?.getTime() === b.expiredBefore?.getTime());

/**
 * Consecutive appends to one job under the same conditions become one append: one UPDATE
 * allocates their seqs, instead of one per append (a running job's progress and log lines
 * mostly arrive this way). The result is the same as running them one after the other: a run
 * ends after any append with a status event (it may change whether the next one's
 * expectStatus holds), and appends that set columns of their own stay alone.
 */
export function mergeAppends(requests: readonly AppendRequest[]): MergedAppend[] {
  const merged: MergedAppend[] = [];
  const open = new Map<string, MergedAppend>();
  requests.forEach((request, index) => {
    const count = request.bodies.length;
    const current = open.get(request.jobId);
    const joins =
      current !== undefined &&
      request.patch === undefined &&
      sameStatuses(current.request.expectStatus, request.expectStatus) &&
      sameLease(current.request.lease, request.lease) &&
      current.request.bodies.length + count <= MAX_MERGED_EVENTS;
    if (joins) {
      current.request = { ...current.request, bodies: [...current.request.bodies, ...request.bodies] };
      current.members.push({ index, count });
    } else {
      const group: MergedAppend = { request, members: [{ index, count }] };
      merged.push(group);
      open.set(request.jobId, group);
    }
    // After a status change, or with columns of its own, the next append of this job starts afresh.
    if (request.patch !== undefined || request.bodies.some((b) => b.type === 'status')) open.delete(request.jobId);
  });
  return merged;
}

/** The outcome of each original request, from the outcomes of the merged ones. */
export function splitOutcomes(merged: readonly MergedAppend[], outcomes: readonly AppendOutcome[], total: number): AppendOutcome[] {
  const out = new Array<AppendOutcome>(total);
  merged.forEach((group, g) => {
    const outcome = outcomes[g]!;
    if (outcome.kind !== 'appended') {
      for (const m of group.members) out[m.index] = outcome;
      return;
    }
    let offset = 0;
    for (const m of group.members) {
      out[m.index] = { kind: 'appended', events: outcome.events.slice(offset, offset + m.count) };
      offset += m.count;
    }
  });
  return out;
}
