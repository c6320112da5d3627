import path from 'node:path';
import type { ClaimedJob, EngineKind, RegisteredWorker, WorkerEngine } from '@chorus/api';
import { ENGINE_KINDS } from '@chorus/api';
import { BullmqJobFeed, createEngines, killLeftoverCommands, MachineResourceSampler, runJob, type EngineRegistry, type StopReason, type WorkerLogger } from '@chorus/inference';
import type { WorkerConfig } from './config.ts';
import { remoteRunIO } from './remote-run-io.ts';
import { connectServer, type ServerApi } from './server-api.ts';
import { WORKER_VERSION } from './version.ts';

interface Running {
  epoch: number;
  controller: AbortController;
  reason: StopReason;
  done: Promise<void>;
}

const isEngineKind = (kind: string): kind is EngineKind => (ENGINE_KINDS as readonly string[]).includes(kind);

/**
 * An inference worker on its own machine: its engines, job ids from BullMQ, and everything
 * else (the job, the prompt, events, the WAV, leases) through the server's worker API.
 */
export class StandaloneWorker {
  private readonly api: ServerApi;
  private readonly resources = new MachineResourceSampler();
  private readonly running = new Map<string, Running>();
  private engines!: EngineRegistry;
  private feed!: BullmqJobFeed;
  private registration!: RegisteredWorker;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeating: Promise<void> | null = null;
  private lastHeartbeatOk = Date.now();
  private stopping = false;

  constructor(
    private readonly config: WorkerConfig,
    private readonly logger: WorkerLogger,
  ) {
    this.api = connectServer(config.serverUrl, config.token);
  }

  get workerId(): string {
    return this.registration.workerId;
  }

  async start(): Promise<void> {
    const scratchDir = path.join(this.config.dataDir, 'scratch');
    // An engine command a kill -9 of this worker orphaned would run beside its job's next run.
    const orphans = killLeftoverCommands(scratchDir);
    if (orphans > 0) this.logger.warn({ processes: orphans }, 'killed engine processes an earlier run of this worker left running');
    this.engines = await createEngines(this.config.engines, { scratchDir });
    await this.engines.startProbing(this.config.engineProbeMs);
    this.registration = await this.api.trpc.workerApi.register.mutate({ name: this.config.name, version: WORKER_VERSION, engines: this.engineReport(), resources: await this.resources.sample() });
    const { leaseMs, heartbeatMs } = this.registration;
    this.logger.info({ workerId: this.workerId, server: this.config.serverUrl, engines: this.engines.list().map((e) => e.id), leaseMs }, 'registered with the server');
    // BullMQ's lock and stalled check follow the server's lease, as the servers' own feeds do.
    this.feed = new BullmqJobFeed({ ...this.config.redis, logger: this.logger, lockDurationMs: leaseMs, stalledIntervalMs: Math.max(1000, Math.floor(leaseMs / 3)) });
    this.feed.onAbort((jobId) => this.abort(jobId, 'cancel'));
    this.engines.onHealthChange((engineId, health) => {
      void (health.status === 'down' ? this.feed.pause(engineId) : this.feed.resume(engineId)).catch((err: unknown) => this.logger.error({ err, engineId }, 'could not pause or resume the job feed'));
    });
    for (const e of this.engines.list()) if (!this.engines.isAvailable(e.id)) await this.feed.pause(e.id);
    await this.feed.start(
      this.engines.list().map((e) => ({ id: e.id, concurrency: this.engines.concurrency(e.id) })),
      (jobId) => this.handle(jobId),
    );
    this.heartbeatTimer = setInterval(() => this.heartbeat(), heartbeatMs);
  }

  /** A job id from BullMQ: claim it through the server, run it if the claim won, return when the run ended. */
  private async handle(jobId: string): Promise<void> {
    if (this.stopping) return;
    const claimed = await this.api.trpc.workerApi.claim.mutate({ workerId: this.workerId, jobId });
    if (!claimed) return;
    await this.run(claimed);
  }

  private async run(claimed: ClaimedJob): Promise<void> {
    const { job, lease } = claimed;
    const engine = this.engines.engine(job.engineId);
    const controller = new AbortController();
    const entry: Running = { epoch: lease.epoch, controller, reason: 'cancel', done: Promise.resolve() };
    this.running.set(job.id, entry);
    if (job.cancelRequested) controller.abort();
    entry.done = (async () => {
      if (!engine) throw new Error(`engine ${job.engineId} is not configured on this worker`);
      this.logger.info({ jobId: job.id, engine: engine.info.id, epoch: lease.epoch }, 'job started');
      await runJob({ logger: this.logger, progressIntervalMs: 100 }, remoteRunIO(this.api, this.workerId, claimed), job, engine, {
        signal: controller.signal,
        stopReason: () => entry.reason,
        onRefused: () => {
          if (!controller.signal.aborted) this.abort(job.id, 'lease-lost');
        },
      });
      this.logger.info({ jobId: job.id }, 'job ended');
    })()
      .catch((err: unknown) => this.logger.error({ err, jobId: job.id }, 'job run crashed'))
      .finally(() => this.running.delete(job.id));
    await entry.done;
  }

  private abort(jobId: string, reason: StopReason): void {
    const run = this.running.get(jobId);
    if (!run) return;
    run.reason = reason;
    run.controller.abort();
  }

  /** Engines, health and resources to the server; it renews our leases and names the jobs to stop. */
  private heartbeat(): void {
    this.fenceIfCutOff();
    if (this.heartbeating) return;
    this.heartbeating = (async () => {
      const running = [...this.running].map(([jobId, r]) => ({ jobId, epoch: r.epoch }));
      try {
        const answer = await this.api.trpc.workerApi.heartbeat.mutate(
          { workerId: this.workerId, engines: this.engineReport(), resources: await this.resources.sample(), running },
          // A blackholed server must not hold the heartbeat (and the cut-off check) for the default 30 s.
          { signal: AbortSignal.timeout(this.registration.heartbeatMs * 2) },
        );
        this.lastHeartbeatOk = Date.now();
        for (const jobId of answer.lost) {
          this.logger.warn({ jobId }, 'the server says this worker lost the lease of a running job; stopping it');
          this.abort(jobId, 'lease-lost');
        }
        for (const jobId of answer.cancel) this.abort(jobId, 'cancel');
      } catch (err) {
        this.logger.warn({ err: err instanceof Error ? err.message : String(err), silentMs: Date.now() - this.lastHeartbeatOk }, 'heartbeat failed');
        this.fenceIfCutOff();
      }
    })().finally(() => {
      this.heartbeating = null;
    });
  }

  /** Cut off from the server longer than a lease: it has taken our jobs over; stop them rather than run them twice. */
  private fenceIfCutOff(): void {
    const silentMs = Date.now() - this.lastHeartbeatOk;
    if (silentMs <= this.registration.leaseMs) return;
    for (const [jobId, run] of this.running) {
      if (run.controller.signal.aborted) continue;
      this.logger.warn({ jobId, silentMs }, 'no heartbeat reached the server for longer than a lease; stopping this job (another worker runs it now)');
      this.abort(jobId, 'lease-lost');
    }
  }

  private engineReport(): WorkerEngine[] {
    return this.engines.list().map((e) => {
      const health = this.engines.health(e.id);
      if (!isEngineKind(e.kind)) throw new Error(`engine ${e.id} has a kind the server does not know: ${e.kind}`);
      return { id: e.id, kind: e.kind, version: e.version, concurrency: this.engines.concurrency(e.id), health };
    });
  }

  /** Stop taking jobs; give running ones `graceMs`, then give them back to the queue; say goodbye. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    await this.feed?.stop();
    const all = (): Promise<unknown> => Promise.all([...this.running.values()].map((r) => r.done));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([all(), timeout])) === 'timeout') {
      for (const id of this.running.keys()) this.abort(id, 'shutdown');
      await all();
    }
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.heartbeating;
    if (this.registration) await this.api.trpc.workerApi.goodbye.mutate({ workerId: this.workerId }).catch((err: unknown) => this.logger.warn({ err }, 'could not say goodbye to the server'));
    await this.feed?.closed();
    await this.engines?.close();
  }
}
