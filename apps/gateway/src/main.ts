// The gateway: the public HTTP and WebSocket edge, and the `gateway` stream's channel deliveries. Wiring only.
import { runService } from '@parley/service-kit';
import { env } from './env.js';
import { gatewayWiring } from './wiring.js';

const gateway = gatewayWiring();
// HTTP_PORT is the public API (with the probes); the health server with /metrics is on METRICS_PORT.
await runService({ name: 'gateway', env, service: 'gateway', healthPort: (config) => config.metrics.port, handlers: gateway.wire, start: gateway.listen });
