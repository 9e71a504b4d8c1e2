import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { assertNever, httpStatusOf, toClientError, toErrorBody, ActionError } from './errors.js';
import { createLogger, logContext } from './logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  test('JSON lines with service, instance, level name and the child convention', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'conversation', instance: 'conversation-1', destination });
    log.child(logContext({ tenantId: 't1', correlationId: 'c1', traceId: 'a'.repeat(32), type: 'conversation.get' })).info('handled');
    expect(lines[0]).toMatchObject({
      level: 'info',
      msg: 'handled',
      service: 'conversation',
      instance: 'conversation-1',
      tenantId: 't1',
      correlationId: 'c1',
      traceId: 'a'.repeat(32),
      action: 'conversation.get',
    });
  });

  test('redacts secrets at the top level and nested', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 's', instance: 'i', destination });
    log.info(
      {
        token: 'tok-1',
        apiKey: 'key-1',
        headers: { authorization: 'Bearer tok-2', api_access_token: 'cw-1', 'x-api-key': 'xk' },
        req: { headers: { authorization: 'Bearer tok-3' } },
        config: { password: 'pw', secret: 'sh', api_key: 'k2' },
        keep: 'visible',
      },
      'with secrets',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['tok-1', 'key-1', 'tok-2', 'cw-1', 'xk', 'tok-3', 'pw', 'sh', 'k2']) expect(text).not.toContain(`"${secret}"`);
    expect(text).toContain('visible');
    expect(text).toContain('[redacted]');
  });

  test("redacts a child's bindings and an error's own fields, and keeps the error serialised", () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 's', instance: 'i', destination });
    const err = Object.assign(new Error('upstream refused'), { config: { authorization: 'Bearer tok-4' }, secret: 'sh-2' });
    // A grandchild too: every descendant's bindings pass the same redaction.
    log
      .child({ token: 'tok-5', requestId: 'r1' })
      .child({ config: { apiKey: 'key-6' } })
      .error({ err }, 'failed');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['tok-4', 'tok-5', 'key-6', 'sh-2']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ requestId: 'r1', err: { type: 'Error', message: 'upstream refused' } });
    expect((lines[0]?.['err'] as { stack?: string }).stack).toContain('upstream refused');
  });
});

describe('errors', () => {
  test('maps codes to HTTP statuses', () => {
    expect(httpStatusOf('not_found')).toBe(404);
    expect(httpStatusOf('invalid_payload')).toBe(400);
    expect(httpStatusOf('rate_limited')).toBe(429);
    expect(httpStatusOf('unavailable')).toBe(503);
    expect(httpStatusOf('internal')).toBe(500);
  });

  test('only ActionError messages reach callers', () => {
    expect(toErrorBody(new ActionError('busy', 'a run is active', { retryable: true }))).toEqual({ code: 'busy', message: 'a run is active', retryable: true });
    expect(toErrorBody(new Error('connect ECONNREFUSED postgres://u:pw@db'))).toEqual({
      code: 'internal',
      message: 'internal error; see the service logs',
      retryable: true,
    });
  });

  test('toClientError: a crash becomes internal with a reference, logged beside the real error', async () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'gateway', instance: 'g1', destination });
    const reported = new ActionError('not_found', 'no run r1');
    expect(toClientError(reported, log)).toEqual({ code: 'not_found', message: 'no run r1', retryable: false });
    const crashes = [
      new Error('Failed query: insert into "agent_runs" ("input") values ($1)\nparams: {"text":"\u0000"}'),
      new ActionError('max_deliveries', 'agent.run crashed on its last allowed delivery (3): Failed query: insert into "agent_runs"'),
      new ActionError('unavailable', 'lookup failed: Failed query: select "x" from "y" where "id" = $1\nparams: a'),
    ];
    for (const err of crashes) {
      const body = toClientError(err, log, { route: '/api/v1/runs' });
      expect(body).toMatchObject({ code: 'internal', ref: expect.any(String) });
      expect(body.message).toContain(body.ref);
      expect(JSON.stringify(body)).not.toMatch(/insert|select|\$1|params/);
      const line = lines.find((l) => l['ref'] === body.ref);
      expect(JSON.stringify(line)).toContain('Failed query');
      expect(line).toMatchObject({ level: 'error', route: '/api/v1/runs' });
    }
    // A reference the failing service already logged is passed on unchanged.
    expect(toClientError(new ActionError('internal', 'x failed (reference r-1)', { ref: 'r-1' }), log).ref).toBe('r-1');
  });

  test('assertNever throws on what slipped past the types', () => {
    type Kind = 'a' | 'b';
    const describe = (k: Kind) => {
      switch (k) {
        case 'a':
          return 1;
        case 'b':
          return 2;
        default:
          return assertNever(k, 'kind');
      }
    };
    expect(describe('a')).toBe(1);
    expect(() => describe('c' as Kind)).toThrow('unexpected kind: "c"');
  });
});
