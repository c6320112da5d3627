import { describe, expect, it } from 'vitest';
import { addPerson, bearer, connectClient, uploadReference, useChorus } from './support/harness.ts';

/** A tRPC call over plain HTTP, as curl would make it: the status and the answer's JSON. */
async function call(url: string, procedure: string, token: string, body?: unknown): Promise<{ status: number; json: { result?: { data: unknown }; error?: { message: string } } }> {
  const res =
    body === undefined
      ? await fetch(`${url}/trpc/${procedure}`, { headers: bearer(token) })
      : await fetch(`${url}/trpc/${procedure}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(token) }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as { result?: { data: unknown }; error?: { message: string } } };
}

describe('the history’s person filter lists everyone who has jobs', () => {
  const chorus = useChorus();

  it('keeps a deactivated member, marked, filterable, and without their email', async () => {
    const member = await addPerson(chorus.h, 'member');
    const viewer = await addPerson(chorus.h, 'viewer');
    const asMember = connectClient(chorus.h.url, member.token);
    const asViewer = connectClient(chorus.h.url, viewer.token);
    try {
      const upload = await uploadReference(chorus.h.url, member.token);
      const job = await asMember.trpc.job.create.mutate({ mode: 'zero_shot', text: 'Before I leave.', promptUploadId: upload.id, promptText: 'A reference line.' });
      await chorus.client.trpc.members.deactivate.mutate({ userId: member.id });

      // A viewer may ask (the history is shared); the answer has names only, no email or role.
      const { status, json } = await call(chorus.h.url, 'auth.people', viewer.token);
      expect(status).toBe(200);
      const people = json.result!.data as Record<string, unknown>[];
      for (const p of people) expect(Object.keys(p).sort()).toEqual(['active', 'id', 'name']);
      expect(people).toContainEqual({ id: member.id, name: expect.any(String), active: false });
      expect(people).toContainEqual({ id: viewer.id, name: expect.any(String), active: true });
      expect(JSON.stringify(people)).not.toContain('@');
      // Active people first, so the deactivated ones sit at the end of the list.
      expect(people.findIndex((p) => p.active === false)).toBeGreaterThan(people.findLastIndex((p) => p.active === true));

      // And the filter the list feeds still finds the deactivated member's job.
      const list = await asViewer.trpc.job.list.query({ createdBy: member.id });
      expect(list.items.map((j) => j.id)).toEqual([job.id]);
    } finally {
      asMember.close();
      asViewer.close();
    }
  });
});

describe('workspace settings refuse bad values with a message that says what is accepted', () => {
  const chorus = useChorus();

  const update = (body: unknown) => call(chorus.h.url, 'settings.update', chorus.h.token, body);

  it('a fractional, negative, too large or non-numeric limit, or an unknown setting', async () => {
    expect(await update({ jobsPerMinute: 1.5 })).toEqual({
      status: 400,
      json: { error: expect.objectContaining({ message: 'jobsPerMinute: jobsPerMinute must be a whole number from 0 to 100000 (jobs per minute per person; 0 = no limit).' }) },
    });
    expect((await update({ uploadsPerHour: -1 })).json.error?.message).toBe('uploadsPerHour: uploadsPerHour must be a whole number from 0 to 100000 (uploads per hour per person; 0 = no limit).');
    expect((await update({ retentionDays: '30' })).json.error?.message).toBe('retentionDays: retentionDays must be a whole number from 0 to 36500 (days; 0 = keep jobs forever).');
    expect((await update({ uploadBytesPerMember: 2 ** 41 })).json.error?.message).toBe(
      `uploadBytesPerMember: uploadBytesPerMember must be a whole number from 0 to ${1024 ** 4} (bytes of stored uploads per person; 0 = no limit).`,
    );
    expect(await update({ jobsPerMinut: 5 })).toMatchObject({
      status: 400,
      json: { error: { message: 'Unknown setting "jobsPerMinut"; the settings are: jobsPerMinute, uploadsPerHour, uploadBytesPerMember, retentionDays.' } },
    });
    // Nothing of the refused updates was stored; a good one still is.
    const saved = await chorus.client.trpc.settings.get.query();
    expect(saved).toEqual({ jobsPerMinute: 30, uploadsPerHour: 60, uploadBytesPerMember: 500 * 1024 * 1024, retentionDays: 0 });
    expect(await chorus.client.trpc.settings.update.mutate({ jobsPerMinute: 0, retentionDays: 36_500 })).toMatchObject({ jobsPerMinute: 0, retentionDays: 36_500 });
  });
});
