import type { EngineCatalog, EngineInfo } from '@chorus/api';
import type { Engine } from '../engine/engine.ts';

/** The engines this process can run, by id; the first marked default answers get(undefined). */
export class EngineRegistry implements EngineCatalog {
  private readonly engines = new Map<string, Engine>();

  constructor(engines: Engine[]) {
    for (const engine of engines) this.engines.set(engine.info.id, engine);
  }

  list(): EngineInfo[] {
    return [...this.engines.values()].map((e) => e.info);
  }

  get(id?: string): EngineInfo | undefined {
    return this.engine(id)?.info;
  }

  engine(id?: string): Engine | undefined {
    if (id === undefined) return [...this.engines.values()].find((e) => e.info.default) ?? this.engines.values().next().value;
    return this.engines.get(id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.engines.values()].map((e) => e.close?.()));
  }
}
