import { describe, expectTypeOf, test } from 'vitest';
import { catalog, type Catalog } from '@parley/contracts';
import { createBus } from './bus.js';
import type { Handlers } from './types.js';

// Compile-time guarantees of the catalog-typed bus. Never executed: vitest typechecks this file.
const bus = createBus({ catalog, redis: 'redis://127.0.0.1:6379', service: 'test' });
const meta = { tenantId: 't' };

describe('bus types', () => {
  test('call is typed by the catalog', () => {
    expectTypeOf(bus.call('conversation.get_context', { conversationId: 'c', maxTokens: 100 }, meta))
      .resolves.toHaveProperty('truncated')
      .toEqualTypeOf<boolean>();
    // @ts-expect-error wrong payload: maxTokens must be a number
    void bus.call('conversation.get_context', { conversationId: 'c', maxTokens: '100' }, meta);
    // @ts-expect-error unknown action type
    void bus.call('conversation.nope', {}, meta);
    // @ts-expect-error tenantId is required in meta
    void bus.send('conversation.session_closed', { conversationId: 'c' }, {});
  });

  test('handle needs a handler for every action of the service', () => {
    const ok = null as unknown as Handlers<Catalog, 'migration'>;
    bus.handle('migration', ok);
    const { 'migration.get_stats': _dropped, ...missing } = ok;
    // @ts-expect-error a missing handler does not compile
    bus.handle('migration', missing);
    bus.handle('migration', {
      ...ok,
      // @ts-expect-error a handler returning the wrong reply does not compile
      'migration.start_loop': async () => ({ running: 'yes' }),
    });
  });
});
