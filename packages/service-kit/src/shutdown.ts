/**
 * Graceful shutdown on SIGTERM/SIGINT: closers run in stages (stop taking work, finish in-flight
 * work, close what the service opened, then the connections everything else needed), then exit 0.
 * A second signal means "now": exit at once.
 */
import type { Logger } from 'pino';

/** Lower stages run first; within a stage the last registered closes first (like a stack of resources). */
export const Stage = {
  /** Stop taking work: bus workers (they finish in-flight handlers within the grace period), HTTP listeners. */
  workers: 10,
  /** What the service itself opened: its loops, pools, servers. */
  app: 50,
  /** The bus (callback queue, command connection). */
  bus: 80,
  /** Health server and the kit's own Redis connection, last so /metrics answers until the end. */
  infra: 90,
} as const;

export type Closer = () => Promise<void> | void;

export interface Shutdown {
  onShutdown(name: string, closer: Closer, stage?: number): void;
  /** Runs every closer once; later calls return the same promise. */
  run(reason: string): Promise<void>;
  readonly started: boolean;
}

/**
 * `hardTimeoutMs`: a shutdown that overruns it exits the process with 1. Left out (a service run
 * in-process by a test, see startService), nothing exits the process.
 */
export function createShutdown(log: Logger, opts: { hardTimeoutMs?: number } = {}): Shutdown {
  const closers: Array<{ name: string; closer: Closer; stage: number; seq: number }> = [];
  let running: Promise<void> | undefined;
  return {
    onShutdown(name, closer, stage = Stage.app) {
      closers.push({ name, closer, stage, seq: closers.length });
    },
    get started() {
      return running !== undefined;
    },
    run(reason) {
      running ??= (async () => {
        log.info({ reason }, 'shutting down');
        const { hardTimeoutMs } = opts;
        const hard =
          hardTimeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                log.error({ timeoutMs: hardTimeoutMs }, 'shutdown took too long; exiting anyway');
                process.exit(1);
              }, hardTimeoutMs);
        hard?.unref();
        const ordered = [...closers].sort((a, b) => a.stage - b.stage || b.seq - a.seq);
        for (const c of ordered) {
          try {
            await c.closer();
          } catch (err) {
            // One failing closer must not keep the rest (and the connections they hold) open.
            log.warn({ err, closer: c.name }, 'closer failed during shutdown');
          }
        }
        clearTimeout(hard);
      })();
      return running;
    },
  };
}

/** Wires the process signals to `shutdown.run`, then exits 0. */
export function installSignalHandlers(shutdown: Shutdown, log: Logger): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (shutdown.started) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    void shutdown.run(signal).then(() => {
      log.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
