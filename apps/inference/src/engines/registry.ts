import type { EngineCatalog, EngineHealth, EngineInfo } from '@chorus/api';
import type { Engine } from '../engine/engine.ts';

export interface RegisteredEngine {
  engine: Engine;
  /** Jobs this engine may run at once (the worker enforces it). */
  concurrency: number;
}

type HealthListener = (engineId: string, health: EngineHealth, previous: EngineHealth) => void;

const PROBE_TIMEOUT_MS = 5_000;

/**
 * The engines this process can run, by id, and their live health. Engines with a remote
 * part are probed periodically; the first marked default answers get(undefined).
 */
export class EngineRegistry implements EngineCatalog {
  private readonly entries = new Map<string, RegisteredEngine>();
  private readonly healthById = new Map<string, EngineHealth>();
  private readonly listeners = new Set<HealthListener>();
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;

  constructor(entries: RegisteredEngine[]) {
    for (const entry of entries) {
      this.entries.set(entry.engine.info.id, entry);
      // Engines with nothing remote to check are up from the start.
      this.healthById.set(entry.engine.info.id, {
        status: entry.engine.probe ? 'unknown' : 'up',
        message: null,
        checkedAt: entry.engine.probe ? null : new Date().toISOString(),
      });
    }
  }

  list(): EngineInfo[] {
    return [...this.entries.values()].map((e) => e.engine.info);
  }

  get(id?: string): EngineInfo | undefined {
    return this.engine(id)?.info;
  }

  engine(id?: string): Engine | undefined {
    const all = [...this.entries.values()].map((e) => e.engine);
    if (id === undefined) return all.find((e) => e.info.default) ?? all[0];
    return this.entries.get(id)?.engine;
  }

  concurrency(id: string): number {
    return this.entries.get(id)?.concurrency ?? 1;
  }

  health(id: string): EngineHealth {
    return this.healthById.get(id) ?? { status: 'unknown', message: `No engine "${id}" is configured.`, checkedAt: null };
  }

  /** Not known to be down: its jobs may be started (an unknown engine gets a chance; the run will say). */
  isAvailable(id: string): boolean {
    return this.entries.has(id) && this.health(id).status !== 'down';
  }

  onHealthChange(listener: HealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Probe every engine that can be probed, now (joins a round already in flight). */
  probeAll(): Promise<void> {
    // Overlapping rounds could land a stale result after a fresh one.
    this.probing ??= this.probeRound().finally(() => {
      this.probing = null;
    });
    return this.probing;
  }

  private async probeRound(): Promise<void> {
    await Promise.all(
      [...this.entries.values()].map(async ({ engine }) => {
        if (!engine.probe) return;
        let next: EngineHealth;
        try {
          await engine.probe(AbortSignal.timeout(PROBE_TIMEOUT_MS));
          next = { status: 'up', message: null, checkedAt: new Date().toISOString() };
        } catch (err) {
          next = { status: 'down', message: err instanceof Error ? err.message : String(err), checkedAt: new Date().toISOString() };
        }
        const previous = this.health(engine.info.id);
        this.healthById.set(engine.info.id, next);
        if (previous.status === next.status) return;
        for (const listener of this.listeners) {
          try {
            listener(engine.info.id, next, previous);
          } catch (err) {
            console.error(`chorus: a health listener failed for engine ${engine.info.id}:`, err);
          }
        }
      }),
    );
  }

  /** Probe now and then every `intervalMs`. */
  async startProbing(intervalMs = 15_000): Promise<void> {
    await this.probeAll();
    this.timer ??= setInterval(() => void this.probeAll(), intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.entries.values()].map((e) => e.engine.close?.()));
  }
}
