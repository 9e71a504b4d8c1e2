import type { Logger } from 'pino';
import type { Bus } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { RunPauses } from '../../stores/run-pauses.js';

/**
 * Fails paused runs that outlived APPROVAL_TIMEOUT_MS. Every replica sweeps; each expired run is claimed by one
 * (RunPauses.claimExpired: a conditional UPDATE with SKIP LOCKED) and then ended like any resume, by whichever replica
 * takes its `agent.resume_run`: FAILED `approval_timeout`, with its status entry in the transcript.
 */
export class ApprovalTimeouts {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly pauses: RunPauses,
    private readonly bus: Bus<Catalog>,
    private readonly everyMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping = this.sweep().catch((err: unknown) => this.log.warn({ err }, 'approval timeout sweep failed; the next one retries'));
    }, this.everyMs);
    this.timer.unref();
  }

  async sweep(): Promise<void> {
    for (const { runId, tenantId } of await this.pauses.claimExpired(new Date())) {
      this.log.info({ runId, tenantId }, 'approval timed out; the run is ended');
      await this.bus.send('agent.resume_run', { runId }, { tenantId, correlationId: runId });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }
}
