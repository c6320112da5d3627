import type { EngineInfo, EngineStage } from '@chorus/api/schemas';
import type { CommandEngineConfig } from '../config.ts';
import { cosyVoiceEngineInfo } from '../cosyvoice/cosyvoice-info.ts';

/**
 * The stages the reference runner (runners/cosyvoice_runner.py) declares with @chorus, in
 * order. A plain script gets `synthesis` and `encoding` from the engine itself.
 */
export const COMMAND_ENGINE_STAGES: EngineStage[] = [
  { name: 'load_model', label: 'Loading the model' },
  { name: 'text_frontend', label: 'Normalising and splitting the text' },
  { name: 'synthesis', label: 'Generating speech, per segment' },
  { name: 'encoding', label: 'Writing the WAV' },
];

export function commandEngineInfo(config: CommandEngineConfig): EngineInfo {
  return cosyVoiceEngineInfo(config, {
    kind: 'command',
    runtime: 'a spawned command',
    stages: COMMAND_ENGINE_STAGES,
    runtimeModes: ['zero_shot', 'cross_lingual', 'instruct', 'pretrained'],
    reproducible: true,
  });
}
