/** The slice of pino's Logger the worker uses, so apps/inference needs no logging dependency. */
export interface WorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
