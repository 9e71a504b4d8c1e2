import { describe, expect } from 'vitest';
import { pino } from 'pino';
import type { RunEvent } from '@parley/contracts';
import type { Redis } from 'ioredis';
import { redisTest as it } from '@parley/testing';
import { builtinTools } from './builtin.js';
import type { ToolContext } from './define-tool.js';
import { Toolbox } from './toolbox.js';
import { RunEvents } from '../runs/run-events.js';
import { logThenCollect } from '../../testing/run-event-log.js';

function box(redis: Redis, prefix: string, enabled: string[], roles: string[], gated: string[] = []) {
  const seen: RunEvent[] = [];
  const events = new RunEvents(
    logThenCollect(redis, (e) => seen.push(e)),
    prefix,
    'r1',
  );
  const ctx = { signal: new AbortController().signal, log: pino({ level: 'silent' }), note: () => {} } as unknown as ToolContext;
  return { toolbox: new Toolbox(builtinTools, enabled, roles, ctx, events, gated), seen, events };
}

describe('Toolbox', () => {
  it('offers the enabled tools the user may use, with JSON schemas from their zod args', ({ redis, prefix }) => {
    const { toolbox } = box(redis, prefix, ['current_time', 'close_conversation'], ['customer']);
    expect(toolbox.names).toEqual(['current_time']);
    expect(toolbox.specs()[0]).toMatchObject({ name: 'current_time', parameters: { type: 'object', properties: { timezone: { type: 'string' } } } });
    expect(box(redis, prefix, ['current_time', 'close_conversation'], ['operator']).toolbox.names).toEqual(['current_time', 'close_conversation']);
  });

  it('refuses a forged call to a tool the user may not use, and reports it as a step', async ({ redis, prefix }) => {
    const { toolbox, seen, events } = box(redis, prefix, ['current_time', 'close_conversation'], ['customer']);
    const outcome = await toolbox.call({ id: 'c1', name: 'close_conversation', arguments: '{}' });
    expect(outcome).toMatchObject({ ok: false });
    expect(JSON.parse(outcome.content)).toEqual({ error: 'tool "close_conversation" is not available to this user' });
    await events.flush();
    expect(seen.map((e) => e.type === 'run.step' && `${e.kind}:${e.name}`)).toEqual(['tool_call:close_conversation', 'tool_result:close_conversation']);
  });

  it('rejects invalid arguments without running the tool, and runs valid ones', async ({ redis, prefix }) => {
    const { toolbox, events } = box(redis, prefix, ['current_time'], []);
    expect((await toolbox.call({ id: 'c1', name: 'current_time', arguments: '{"timezone": 5}' })).ok).toBe(false);
    const ok = await toolbox.call({ id: 'c2', name: 'current_time', arguments: '{"timezone":"Europe/Madrid"}' });
    expect(ok.ok).toBe(true);
    expect(JSON.parse(ok.content)).toMatchObject({ timezone: 'Europe/Madrid' });
    await events.flush();
  });

  it('a tool that needs approval runs only when the call says it was approved, whatever flow calls it', async ({ redis, prefix }) => {
    const { toolbox, events } = box(redis, prefix, ['current_time'], [], ['current_time']);
    expect(toolbox.requiresApproval('current_time')).toBe(true);
    expect(toolbox.requiresApproval('close_conversation')).toBe(false);
    const unasked = await toolbox.call({ id: 'c1', name: 'current_time', arguments: '{}' });
    expect(unasked.ok).toBe(false);
    expect(JSON.parse(unasked.content)).toEqual({ error: 'tool "current_time" needs a person\'s approval, which this flow cannot ask for' });
    expect((await toolbox.call({ id: 'c2', name: 'current_time', arguments: '{}' }, undefined, true)).ok).toBe(true);
    await events.flush();
  });
});
