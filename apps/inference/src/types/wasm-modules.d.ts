// Type declarations for the Emscripten-built WASM packages the built-in engine uses. None
// of them ships .d.ts files; these cover only the members Chorus calls. Pointers are
// byte offsets into the module's heap. Heap views are replaced when memory grows, so
// callers must read `HEAPF32` etc. again after every `_malloc`.

interface EmscriptenHeaps {
  HEAP16: Int16Array;
  HEAP32: Int32Array;
  HEAPF32: Float32Array;
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

declare module '@echogarden/espeak-ng-emscripten' {
  export interface EspeakEvent {
    type: string;
    text_position: number;
    word_length: number;
    audio_position: number;
    id?: number | string;
  }
  export interface ESpeakNGWorker {
    /** Sample rate of the PCM passed to synthesize callbacks (22050). */
    readonly samplerate: number;
    set_voice(name: string): number;
    /** Words per minute, 80–450. */
    set_rate(wpm: number): void;
    /** Base pitch, 0–99 (50 = the voice's default). */
    set_pitch(pitch: number): void;
    /** Pitch range (intonation), 0–99 (50 = default; 0 = monotone). */
    set_range(range: number): void;
    /** Volume, 0–200 (100 = default). */
    set_volume(volume: number): void;
    /** Input is parsed as SSML. The callback gets Int16 PCM chunks; return true to stop. */
    synthesize(text: string, onChunk: (samples: Int16Array, events: EspeakEvent[]) => boolean | void): void;
  }
  export interface EspeakModule {
    eSpeakNGWorker: new () => ESpeakNGWorker;
  }
  export interface EspeakInitOptions {
    /** Hand in the contents of espeak-ng.data instead of letting the module fetch it. */
    getPreloadedPackage?: (name: string, size: number) => ArrayBuffer;
  }
  const EspeakInit: (options?: EspeakInitOptions) => Promise<EspeakModule>;
  export default EspeakInit;
}

declare module '@echogarden/speex-resampler-wasm' {
  export interface SpeexResamplerModule extends EmscriptenHeaps {
    _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
    _speex_resampler_destroy(state: number): void;
    _speex_resampler_get_input_latency(state: number): number;
    _speex_resampler_get_output_latency(state: number): number;
    _speex_resampler_process_float(state: number, channel: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number;
  }
  const SpeexResamplerInit: () => Promise<SpeexResamplerModule>;
  export default SpeexResamplerInit;
}

declare module '@echogarden/sonic-wasm' {
  export interface SonicModule extends EmscriptenHeaps {
    _sonicCreateStream(sampleRate: number, channels: number): number;
    _sonicDestroyStream(stream: number): void;
    _sonicSetSpeed(stream: number, speed: number): void;
    _sonicSetPitch(stream: number, pitch: number): void;
    _sonicSetQuality(stream: number, quality: number): void;
    _sonicWriteFloatToStream(stream: number, samplesPtr: number, sampleCount: number): number;
    _sonicFlushStream(stream: number): number;
    _sonicSamplesAvailable(stream: number): number;
    _sonicReadFloatFromStream(stream: number, samplesPtr: number, maxSamples: number): number;
  }
  const SonicInit: () => Promise<SonicModule>;
  export default SonicInit;
}
