export * from './engine/engine.ts';
export * from './audio/wav.ts';
export * from './audio/levels.ts';
