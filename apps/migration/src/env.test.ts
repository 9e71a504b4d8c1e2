import { DEFAULT_IDLE_MS } from '@parley/conversation-store';
import { describe, expect, test } from 'vitest';
import { env } from './env.js';

describe('migration env', () => {
  test('defaults', () => {
    const r = env.parse('migration', {});
    expect(r.ok && r.config).toEqual({
      loop: { enabled: true, intervalMs: 1_000, idleMs: DEFAULT_IDLE_MS, batchSize: 500, concurrency: 8, groupSize: 20, backoffMs: 500, backoffMaxMs: 30_000 },
      leaseMs: 30_000,
      pgPoolSize: 10,
      crashAfter: undefined,
    });
  });

  test('every problem is listed, none echoes a value', () => {
    const r = env.parse('migration', { MIGRATION_INTERVAL_MS: '0', MIGRATION_LOOP: 'maybe', MIGRATION_LEASE_MS: '10', MIGRATION_CRASH_AFTER: 'commit' });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['MIGRATION_CRASH_AFTER', 'MIGRATION_INTERVAL_MS', 'MIGRATION_LEASE_MS', 'MIGRATION_LOOP']);
    expect(problems.join('\n')).not.toContain('maybe');
  });

  test('the crash hook in production is listed with the other problems of the same run', () => {
    const r = env.parse('migration', { PARLEY_MODE: 'production', MIGRATION_CRASH_AFTER: 'copy', MIGRATION_LOOP: 'maybe' });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems).toEqual([
      expect.stringMatching(/^MIGRATION_LOOP: /),
      'MIGRATION_CRASH_AFTER: is a test hook and is refused in production mode; unset it',
    ]);
  });

  test('a backoff cap below the base backoff and a pool smaller than the concurrency are raised; the loop can be switched off', () => {
    const r = env.parse('migration', { MIGRATION_BACKOFF_MS: '2000', MIGRATION_BACKOFF_MAX_MS: '100', MIGRATION_LOOP: 'false', MIGRATION_CONCURRENCY: '32' });
    expect(r.ok && r.config.loop).toMatchObject({ enabled: false, backoffMs: 2_000, backoffMaxMs: 2_000 });
    expect(r.ok && r.config.pgPoolSize).toBe(33);
  });
});
