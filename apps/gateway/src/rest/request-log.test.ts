import { describe, expect, test } from 'vitest';
import { SLOW_REQUEST_MS, requestLogLevel } from './request-log.js';

describe('requestLogLevel', () => {
  test('failures and slow answers are read at info; quick successes and probes only at debug', () => {
    expect(requestLogLevel('/webhooks/chatwoot', 200, 2)).toBe('debug');
    expect(requestLogLevel('/api/v1/runs', 201, SLOW_REQUEST_MS - 1)).toBe('debug');
    expect(requestLogLevel('/api/v1/runs', 200, SLOW_REQUEST_MS)).toBe('info');
    expect(requestLogLevel('unmatched', 404, 1)).toBe('info');
    expect(requestLogLevel('/webhooks/chatwoot', 503, 1)).toBe('info');
    expect(requestLogLevel('/healthz', 503, 1)).toBe('debug');
    expect(requestLogLevel('/metrics', 200, SLOW_REQUEST_MS * 5)).toBe('debug');
  });
});
