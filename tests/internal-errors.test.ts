/**
 * The WS leak of issue 17 item 4: an agent.run that crashed on every delivery reached the client as
 * `agent.error max_deliveries` carrying the crash message, i.e. the SQL statement and its
 * parameters. The agent service here is a stand-in on the real bus whose run handler crashes the
 * way a failed insert does (a driver error wrapped with its SQL); everything else is real.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBus, type Bus, type Handlers } from '@parley/bus';
import { catalog, type AgentConfig, type Catalog } from '@parley/contracts';
import { deletePrefix, newRedis, redisUrl, uniquePrefix, waitFor } from '@parley/testing';
import { createLogger } from '../packages/service-kit/src/index.js';
import { rawSocket, startGateway, token, type RunningGateway } from './support/gateway-env.js';

const SQL = 'Failed query: insert into "agent_runs" ("run_id", "input") values ($1, $2)\nparams: r1,{"text":"my card is 4111"}';

let prefix: string;
let gw: RunningGateway;
const gatewayLogs: Array<Record<string, unknown>> = [];
const agentLogs: Array<Record<string, unknown>> = [];
const standIns: Array<Bus<Catalog>> = [];

const DEFAULT_AGENT: AgentConfig = {
  agentId: 'default',
  name: 'Assistant',
  systemPrompt: '',
  greeting: '',
  model: 'dev',
  temperature: 0,
  tools: [],
  flow: 'chat',
  doubleTexting: 'enqueue',
  maxRunMs: 60_000,
  version: 1,
  isDefault: true,
  archived: false,
  updatedAt: new Date(0).toISOString(),
};

beforeAll(async () => {
  prefix = uniquePrefix('internal');
  const logger = createLogger({
    service: 'stand-in',
    instance: 'stand-in',
    level: 'info',
    destination: { write: (line: string) => void agentLogs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const agent = createBus({ catalog, service: 'agent', redis: redisUrl, prefix, instance: 'agent-stand-in', logger });
  agent.handle('agent', {
    'agent.list_agents': async () => ({ agents: [DEFAULT_AGENT] }),
    'agent.run': async () => {
      throw new Error(SQL, { cause: Object.assign(new Error('deadlock detected'), { code: '40P01' }) });
    },
  } as unknown as Handlers<Catalog, 'agent'>);
  const conversation = createBus({ catalog, service: 'conversation', redis: redisUrl, prefix, instance: 'conversation-stand-in', logger });
  conversation.handle('conversation', {
    'conversation.get_history': async (d: { conversationId?: string }) => ({ conversationId: d.conversationId ?? null, messages: [], hasMore: false }),
  } as unknown as Handlers<Catalog, 'conversation'>);
  standIns.push(agent, conversation);
  gw = await startGateway(prefix, {}, { logs: gatewayLogs });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all(standIns.map((b) => b.close(500)));
  const r = newRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
});

describe('no internal detail reaches a client', () => {
  test('WS: a run that crashed on every delivery ends with agent.error internal + errorRef; the SQL is only in the logs, under that reference', async () => {
    // new=1: a fresh conversation, so the stand-in conversation service needs no conversation.list.
    const s = rawSocket(`${gw.ws}?new=1&token=${token({ sub: 'leak-victim' })}`);
    await s.opened;
    await waitFor(() => s.frames.some((f) => f.type === 'history'), { what: 'history on connect' });
    s.ws.send(JSON.stringify({ type: 'chat.message', id: 'leak-1', text: 'my card is 4111' }));
    const failed = await waitFor(() => s.frames.find((f) => f.type === 'agent.error'), { timeoutMs: 20_000, what: 'agent.error' });
    expect(failed).toMatchObject({ code: 'internal', errorRef: expect.any(String) });
    expect(JSON.stringify(s.frames)).not.toMatch(/insert|params|\$1|4111/);
    const ref = failed.errorRef as string;
    // The agent service logged the crash itself under the reference the client got; the gateway logged it too.
    expect(agentLogs.some((l) => l['ref'] === ref && String(l['err']).includes('Failed query'))).toBe(true);
    expect(gatewayLogs.some((l) => l['ref'] === ref)).toBe(true);
    s.ws.close();
  }, 30_000);
});
