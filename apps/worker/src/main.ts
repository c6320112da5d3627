import pino from 'pino';
import { loadWorkerConfig, type WorkerConfig } from './config.ts';
import { StandaloneWorker } from './standalone-worker.ts';

let config: WorkerConfig;
try {
  config = loadWorkerConfig();
} catch (err) {
  // A configuration mistake is the operator's to fix: say what, without a stack trace.
  console.error(`Chorus worker cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
const logger = pino({ level: config.logLevel, base: { service: 'chorus-worker', name: config.name } });

const worker = new StandaloneWorker(config, logger);
try {
  await worker.start();
} catch (err) {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'the worker could not start (is CHORUS_SERVER_URL right, the token valid, Redis reachable?)');
  await worker.stop(0).catch(() => undefined);
  process.exit(1);
}
let signals = 0;
const shutdown = (signal: string): void => {
  if (++signals > 1) process.exit(1);
  logger.info({ signal }, 'stopping: running jobs finish or go back to the queue');
  worker.stop(config.shutdownGraceMs).then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'stop failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
