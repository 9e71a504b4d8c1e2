import type { RedisClient } from '@parley/bus';
import type { Usage } from '@parley/contracts';

/** What a run produced, kept until its record says so. */
export interface ProducedAnswer {
  text: string;
  output?: unknown;
  usage: Usage;
  timings: Record<string, number>;
  /** The assistant message the run saves (`${runId}:answer`); absent for flows that save nothing. */
  messageId?: string;
}

const TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A run's answer, written to Redis once the flow is done and BEFORE it is saved to the conversation.
 * If the worker then dies, or crashes on the final status write (PostgreSQL down), the redelivered
 * `agent.run` finds it and — when the conversation holds the message — completes the run with it
 * instead of failing a run whose answer the user can already read (see RunRecovery).
 */
export class RunAnswers {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(runId: string): string {
    return `${this.prefix}:agent:run:{${runId}}:answer`;
  }

  async put(runId: string, answer: ProducedAnswer): Promise<void> {
    await this.redis.set(this.key(runId), JSON.stringify(answer), 'PX', TTL_MS);
  }

  async get(runId: string): Promise<ProducedAnswer | null> {
    const raw = await this.redis.get(this.key(runId));
    return raw ? (JSON.parse(raw) as ProducedAnswer) : null;
  }
}
