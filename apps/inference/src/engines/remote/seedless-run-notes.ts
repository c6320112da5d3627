import type { EngineEmit } from '../../engine/engine.ts';

/**
 * What a CosyVoice runtime without seed or speed inputs cannot honour, said in the job's
 * log: the seed is recorded but not applied, and a speed other than 1 is ignored.
 */
export function noteSeedlessRun(emit: EngineEmit, runtime: string, seed: number, speed: number): void {
  emit({ type: 'log', level: 'info', message: `Runs are not reproducible: ${runtime} takes no seed (seed ${seed} is recorded, not applied).` });
  if (speed !== 1) emit({ type: 'log', level: 'warn', message: `Speed ${speed} is not applied: this runtime ignores speed and speaks at the model’s own pace.` });
}
