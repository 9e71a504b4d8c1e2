export { createBus, type BusOptions } from './bus.js';
export type { ActionMeta, Bus, BusHooks, CallOptions, Handler, HandlerContext, Handlers, Outcome, StreamEntry, WorkerHandle, WorkerOptions } from './types.js';
export { uuidv7, newTraceId } from './ids.js';
export { isDataException, newErrorRef } from './failures.js';
export { trimByProgress } from './trimmer.js';
export { streamStatus, type StreamStatus, type ConsumerStatus } from './ops/stream-status.js';
export { listDeadLetters, replayDeadLetters, writeDeadLetter, type DeadLetter, type NewDeadLetter, type ReplayResult } from './ops/dead-letters.js';
export { drainConsumer, type DrainResult } from './ops/drain-consumer.js';
export {
  SpanKind,
  activeTraceId,
  formatTraceparent,
  openSpan,
  parseTraceparent,
  traceparentOf,
  withSpan,
  type Attributes,
  type OpenSpan,
  type Span,
} from './tracing.js';
export {
  blockingConnection,
  clusterTarget,
  commandConnection,
  isClusterTarget,
  kitConnection,
  nodeServing,
  openRedis,
  type ClusterTarget,
  type RedisClient,
  type RedisTarget,
} from './connection.js';
export { SlotPipelines } from './slot-pipelines.js';
