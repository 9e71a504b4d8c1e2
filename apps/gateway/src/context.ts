/** Everything the routes share, built once by `buildGateway` (wiring.ts). */
import type { Bus } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { BaseConfig } from '@parley/service-kit';
import type { RedisClient } from '@parley/bus';
import type { Logger } from 'pino';
import type { ConversationAccess, RunAccess } from './auth/access.js';
import type { Verifier } from './auth/verifier.js';
import type { GatewayConfig } from './env.js';
import type { GatewayMetrics } from './metrics.js';
import type { RunLogTailer } from './runs/run-log-tailer.js';
import type { RunIdempotency } from './runs/run-idempotency.js';
import type { RunOwners } from './runs/run-owners.js';
import type { RunStarter } from './runs/run-starter.js';
import type { WebhookSender } from './runs/webhook.js';
import type { AgentDirectory } from './ws/agent-directory.js';
import type { HandoffDesk } from './handoff/handoff-desk.js';
import type { ConnectionRegistry } from './ws/connection-registry.js';
import type { RateLimits } from './ws/rate-limit.js';

export interface GatewayContext {
  base: BaseConfig;
  config: GatewayConfig;
  log: Logger;
  bus: Bus<Catalog>;
  redis: RedisClient;
  verifier: Verifier;
  metrics: GatewayMetrics;
  tailer: RunLogTailer;
  owners: RunOwners;
  /** Idempotency-Key claims of `POST /runs` (runs/run-idempotency.ts). */
  idempotency: RunIdempotency;
  /** The authorization rule for conversations and runs (auth/access.ts). */
  conversations: ConversationAccess;
  runAccess: RunAccess;
  runs: RunStarter;
  webhooks: WebhookSender;
  agents: AgentDirectory;
  connections: ConnectionRegistry;
  limiter: RateLimits;
  /** Open SSE streams, ended on shutdown so the HTTP server can close. */
  streams: Set<() => void>;
  /** Hand-off of web conversations to people (handoff/). */
  handoffs: HandoffDesk;
}
