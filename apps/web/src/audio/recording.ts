import { encodeWav16Mono } from './wavEncoder.ts';

/** Average all channels into one. */
export function downmixToMono(audio: AudioBuffer): Float32Array {
  const mono = new Float32Array(audio.length);
  for (let c = 0; c < audio.numberOfChannels; c++) {
    const channel = audio.getChannelData(c);
    for (let i = 0; i < mono.length; i++) mono[i]! += channel[i]! / audio.numberOfChannels;
  }
  return mono;
}

/** Decode any browser-playable recording (webm/opus, ogg, mp4…) and re-encode it as a mono WAV. */
export async function recordingToWav(recording: Blob): Promise<Blob> {
  const context = new AudioContext();
  try {
    const audio = await context.decodeAudioData(await recording.arrayBuffer());
    return new Blob([encodeWav16Mono(downmixToMono(audio), audio.sampleRate)], { type: 'audio/wav' });
  } finally {
    void context.close();
  }
}
