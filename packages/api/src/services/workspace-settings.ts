import type { Db } from '@chorus/db';
import { DEFAULT_SETTINGS, workspaceSettingsSchema, type WorkspaceSettings } from '../schemas/auth.ts';
import { KeyedLock } from './keyed-lock.ts';

const KEY = 'workspace';

/** Each stored value on its own: one damaged (or now out-of-range) field falls back alone, not the whole row. */
function parseStored(value: string): Partial<WorkspaceSettings> {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null) return {};
  const stored: Partial<WorkspaceSettings> = {};
  for (const key of Object.keys(workspaceSettingsSchema.shape) as (keyof WorkspaceSettings)[]) {
    const parsed = workspaceSettingsSchema.shape[key].safeParse((raw as Record<string, unknown>)[key]);
    if (parsed.success) stored[key] = parsed.data;
  }
  return stored;
}

/** Limits and retention, one JSON row; missing or damaged values fall back to the defaults. */
export async function loadSettings(db: Db): Promise<WorkspaceSettings> {
  const row = await db.setting.findUnique({ where: { key: KEY } });
  return { ...DEFAULT_SETTINGS, ...(row ? parseStored(row.value) : {}) };
}

/** Read-modify-write of one row: two admins saving different fields at once must both land. */
const saves = new KeyedLock();

export function saveSettings(db: Db, patch: Partial<WorkspaceSettings>): Promise<WorkspaceSettings> {
  return saves.run(KEY, async () => {
    const next = { ...(await loadSettings(db)), ...patch };
    await db.setting.upsert({ where: { key: KEY }, create: { key: KEY, value: JSON.stringify(next) }, update: { value: JSON.stringify(next) } });
    return next;
  });
}
