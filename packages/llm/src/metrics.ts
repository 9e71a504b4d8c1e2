/**
 * What the model client tells about each call (`ModelConfig.observer`), and its Prometheus series on
 * the process registry service-kit serves at /metrics (`createModelMetrics(kit.metrics.registry)`).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ModelError } from './errors.js';
import type { Usage } from './types.js';

export type ModelOperation = 'chat' | 'stream' | 'embed';

/** One model call that ended. A call the caller cancelled or stopped reading is not reported: its time is the caller's. */
export interface ModelCallEnd {
  /** The model asked for (the request's or the config's), not the dated name a provider answers with. */
  model: string;
  operation: ModelOperation;
  seconds: number;
  /** What the server counted; null when it sent no usage (some local servers) or the call failed. */
  usage: Usage | null;
  error: ModelError | null;
}

export interface ModelObserver {
  ended(call: ModelCallEnd): void;
}

// Model calls take from a few hundred milliseconds to minutes (a long streamed answer).
const MODEL_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300];

export function createModelMetrics(registry: Registry): ModelObserver {
  const registers = [registry];
  const tokens = new Counter({
    name: 'parley_llm_tokens_total',
    help: 'Tokens the model server counted, by model and direction (input: prompt, output: completion).',
    labelNames: ['model', 'direction'] as const,
    registers,
  });
  const seconds = new Histogram({
    name: 'parley_llm_request_seconds',
    help: 'Model calls, from the request to the last byte (retries included), failed ones too; by model and operation.',
    labelNames: ['model', 'operation'] as const,
    buckets: MODEL_BUCKETS,
    registers,
  });
  const errors = new Counter({
    name: 'parley_llm_errors_total',
    help: 'Model calls that failed (after the SDK retries), by model, operation and code (model_error, timeout, rate_limited).',
    labelNames: ['model', 'operation', 'code'] as const,
    registers,
  });
  return {
    ended(call) {
      seconds.observe({ model: call.model, operation: call.operation }, call.seconds);
      if (call.error) errors.inc({ model: call.model, operation: call.operation, code: call.error.code });
      if (call.usage) {
        tokens.inc({ model: call.model, direction: 'input' }, call.usage.promptTokens);
        tokens.inc({ model: call.model, direction: 'output' }, call.usage.completionTokens);
      }
    },
  };
}
