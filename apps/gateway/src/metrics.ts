/** The gateway's own series, on the process registry from service-kit. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface GatewayMetrics {
  connections: Gauge<'kind'>;
  framesIn: Counter<'type'>;
  framesOut: Counter<'type'>;
  runsStarted: Counter<'channel'>;
  errors: Counter<'code'>;
  closes: Counter<'code'>;
  deliveryLag: Histogram<'path'>;
  responses: Counter<'route' | 'status'>;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  return {
    connections: new Gauge({ name: 'parley_gateway_connections', help: 'Open WebSocket and SSE connections.', labelNames: ['kind'] as const, registers }),
    framesIn: new Counter({
      name: 'parley_gateway_frames_in_total',
      help: 'Client frames received, by type (invalid ones as "invalid").',
      labelNames: ['type'] as const,
      registers,
    }),
    framesOut: new Counter({ name: 'parley_gateway_frames_out_total', help: 'Server frames sent, by type.', labelNames: ['type'] as const, registers }),
    runsStarted: new Counter({
      name: 'parley_gateway_runs_started_total',
      help: 'agent.run calls made by this gateway.',
      labelNames: ['channel'] as const,
      registers,
    }),
    errors: new Counter({ name: 'parley_gateway_errors_total', help: 'Errors answered to clients, by code.', labelNames: ['code'] as const, registers }),
    closes: new Counter({
      name: 'parley_gateway_ws_closes_total',
      help: 'Sockets closed by the gateway, by close code.',
      labelNames: ['code'] as const,
      registers,
    }),
    deliveryLag: new Histogram({
      name: 'parley_gateway_event_delivery_lag_seconds',
      help: 'From a run event being produced to its frame being written to the socket, by path (live bus or event log).',
      labelNames: ['path'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    responses: new Counter({
      name: 'parley_gateway_http_responses_total',
      help: 'HTTP responses of the public port, by route pattern (unmatched for none) and status class (2xx, 4xx, 5xx).',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
  };
}
