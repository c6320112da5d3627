import { describe, expect, it } from 'vitest';
import { mergeAppends, splitOutcomes } from '../src/services/event-log/merge-appends.ts';
import type { AppendRequest } from '../src/services/event-log/store.ts';
import type { JobEvent, JobEventBody } from '../src/schemas/job-event.ts';

const log = (message: string): JobEventBody => ({ type: 'log', level: 'info', message });
const running = { expectStatus: ['running'] as const, lease: { owner: 'w#1', epoch: 2 } };
const req = (jobId: string, bodies: JobEventBody[], extra: Partial<AppendRequest> = running): AppendRequest => ({ jobId, bodies, ...extra });

describe('merging the appends of one batch', () => {
  it('merges consecutive appends of a job under the same conditions, per job, keeping their order', () => {
    const merged = mergeAppends([req('a', [log('1')]), req('b', [log('x')]), req('a', [log('2'), log('3')]), req('b', [log('y')])]);
    expect(merged.map((m) => [m.request.jobId, m.request.bodies.map((b) => (b.type === 'log' ? b.message : b.type))])).toEqual([
      ['a', ['1', '2', '3']],
      ['b', ['x', 'y']],
    ]);
    expect(merged[0]!.members).toEqual([
      { index: 0, count: 1 },
      { index: 2, count: 2 },
    ]);
  });

  it('ends a run after a status change, and keeps appends with their own columns, conditions or lease apart', () => {
    const merged = mergeAppends([
      req('a', [log('1')]),
      req('a', [{ type: 'status', status: 'failed' }]),
      req('a', [log('after the end')]),
      req('a', [log('with columns')], { ...running, patch: { progressPct: 100 } }),
      req('a', [log('next')]),
      req('a', [log('other status')], { expectStatus: ['queued'], lease: running.lease }),
      req('a', [log('other lease')], { expectStatus: ['running'], lease: { owner: 'w#1', epoch: 3 } }),
    ]);
    expect(merged.map((m) => m.members.map((x) => x.index))).toEqual([[0, 1], [2], [3], [4], [5], [6]]);
  });

  it('gives each original append its own events, or the merged one’s refusal', () => {
    const requests = [req('a', [log('1')]), req('a', [log('2'), log('3')]), req('b', [log('x')])];
    const merged = mergeAppends(requests);
    const ev = (seq: number): JobEvent => ({ ...log(String(seq)), seq, at: new Date(0).toISOString() });
    const outcomes = splitOutcomes(merged, [{ kind: 'appended', events: [ev(5), ev(6), ev(7)] }, { kind: 'refused' }], requests.length);
    expect(outcomes).toEqual([{ kind: 'appended', events: [ev(5)] }, { kind: 'appended', events: [ev(6), ev(7)] }, { kind: 'refused' }]);
  });
});
