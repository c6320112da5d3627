import type { Db } from '@chorus/db';
import { DEFAULT_SETTINGS, workspaceSettingsSchema, type WorkspaceSettings } from '../schemas/auth.ts';

const KEY = 'workspace';

/** Limits and retention, one JSON row; missing or damaged values fall back to the defaults. */
export async function loadSettings(db: Db): Promise<WorkspaceSettings> {
  const row = await db.setting.findUnique({ where: { key: KEY } });
  if (!row) return DEFAULT_SETTINGS;
  try {
    const parsed = workspaceSettingsSchema.partial().safeParse(JSON.parse(row.value));
    return { ...DEFAULT_SETTINGS, ...(parsed.success ? parsed.data : {}) };
  } catch {
    return DEFAULT_SETTINGS;
  }
}

export async function saveSettings(db: Db, patch: Partial<WorkspaceSettings>): Promise<WorkspaceSettings> {
  const next = { ...(await loadSettings(db)), ...patch };
  await db.setting.upsert({ where: { key: KEY }, create: { key: KEY, value: JSON.stringify(next) }, update: { value: JSON.stringify(next) } });
  return next;
}
