import type { EngineInfo } from '@chorus/api/schemas';
import type { Engine } from '../engine/engine.ts';
import { createBuiltinEngine } from './builtin/index.ts';
import { createCommandEngine } from './command/index.ts';
import type { EngineConfig } from './config.ts';
import { createCosyVoiceHttpEngine } from './cosyvoice-http/index.ts';
import { createCosyVoiceTritonEngine } from './cosyvoice-triton/index.ts';
import { EngineRegistry } from './registry.ts';

/** The same engine under a configured identity (engines may be class instances: delegate, do not spread). */
function withInfo(engine: Engine, info: EngineInfo): Engine {
  return {
    info,
    run: (input, ctx) => engine.run(input, ctx),
    probe: engine.probe ? (signal) => engine.probe!(signal) : undefined,
    close: engine.close ? () => engine.close!() : undefined,
  };
}

/** What engines need from the process that runs them. */
export interface EngineRuntime {
  /** Scratch space inside the data directory (cleared at start). */
  scratchDir: string;
}

async function createEngine(config: EngineConfig, runtime: EngineRuntime): Promise<Engine> {
  switch (config.kind) {
    case 'builtin': {
      // One synthesis thread per job slot, so concurrent jobs really run in parallel.
      const engine = await createBuiltinEngine({ workers: config.concurrency });
      return withInfo(engine, { ...engine.info, id: config.id, name: config.name ?? engine.info.name });
    }
    case 'command':
      return createCommandEngine(config, runtime);
    case 'cosyvoice-http':
      return createCosyVoiceHttpEngine(config);
    case 'cosyvoice-triton':
      return createCosyVoiceTritonEngine(config);
  }
}

/**
 * Build every configured engine. The default is the one marked `default`, else the built-in
 * engine, else the first listed.
 */
export async function createEngines(configs: EngineConfig[], runtime: EngineRuntime): Promise<EngineRegistry> {
  const defaultId = (configs.find((c) => c.default) ?? configs.find((c) => c.kind === 'builtin') ?? configs[0])?.id;
  const entries = [];
  for (const config of configs) {
    const engine = await createEngine(config, runtime);
    entries.push({ engine: withInfo(engine, { ...engine.info, default: config.id === defaultId }), concurrency: config.concurrency });
  }
  return new EngineRegistry(entries);
}
