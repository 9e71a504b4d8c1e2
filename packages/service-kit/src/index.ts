/**
 * @parley/service-kit — what every service's `main.ts` uses: config from env, logger, errors,
 * metrics, health server, graceful shutdown, and `runService` that wires them to the bus.
 */
export { defineEnv, retiredEnv, loadEnv, envBool, envInt, envList, envPort, safeUrl, baseEnvShape, LogLevel, modeOf, httpHostOf } from './env.js';
export { envHttpUrl, modelConfigOf, modelEnvShape, modelProblems, type ModelEnvConfig } from './model-env.js';
export type { BaseConfig, ConfigRules, EnvDefinition, EnvOf, EnvResult } from './env.js';
export { exitWithConfigProblems, formatConfigProblems } from './config-problems.js';
export { redactSecrets } from './redact.js';
export { createLogger, logContext, type Logger, type LogContext, type LoggerOptions } from './logger.js';
export {
  ActionError,
  ErrorCode,
  assertNever,
  errorRefOf,
  httpStatusOf,
  isRecord,
  isReportedFailure,
  toClientError,
  toErrorBody,
  type ErrorBody,
} from './errors.js';
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
export { createHealth, registerHealthRoutes, startHealthServer, type Health, type HealthServer, type ReadinessCheck } from './health.js';
export { Stage, createShutdown, installSignalHandlers, type Closer, type Shutdown } from './shutdown.js';
export { runService, startService, type RunningService, type ServiceDefinition, type ServiceKit, type StartKit } from './run-service.js';
export {
  OutboundGuard,
  hostMatches,
  OutboundRefused,
  outboundEnvShape,
  outboundPolicyOf,
  type OutboundPolicy,
  type OutboundRequest,
  type OutboundResponse,
} from './outbound-url.js';
export {
  SecretBox,
  SecretBoxError,
  SECRET_KEY_FORM,
  isSealed,
  keyIdOf,
  parseSecretKey,
  sealedKeyId,
  secretKeyEnv,
  type SecretBoxFailure,
} from './secret-box.js';
export { guardedFetch, type GuardedFetch } from './outbound-fetch.js';
export {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  installTracing,
  tracingEnabled,
  type ReadableSpan,
  type SpanProcessor,
  type Tracing,
  type TracingOptions,
} from './tracing.js';
export { tracedStore } from './traced-store.js';
export { traceRequests } from './trace-http.js';
export { SpanKind, activeTraceId, withSpan, type Span } from '@parley/bus';
