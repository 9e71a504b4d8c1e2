// What happens when: a kill -9 of a random replica every few seconds, one Redis fault (a restart, or a
// cluster master killed) at about a third of the run and one PostgreSQL cut at about two thirds; never both gateways down at once.
import type { ChaosRedis } from './redis.js';
import type { PgProxy } from './pg-proxy.js';
import type { Replica } from './services.js';

export interface ChaosEvent {
  atS: number;
  what: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function runChaos(o: {
  targets: Replica[];
  redis: ChaosRedis;
  pg: PgProxy;
  t0: number;
  endAt: number;
  everyMs: number;
  say: (m: string) => void;
}): Promise<ChaosEvent[]> {
  const events: ChaosEvent[] = [];
  const note = (what: string) => {
    const atS = Math.round((performance.now() - o.t0) / 100) / 10;
    events.push({ atS, what });
    o.say(`t=${atS}s ${what}`);
  };
  const restarts: Array<Promise<void>> = [];
  const span = o.endAt - o.t0;
  let redisDone = false;
  let pgDone = false;
  for (let tick = 1; tick <= 100; tick++) {
    await sleep(o.t0 + tick * o.everyMs - performance.now());
    if (performance.now() > o.endAt - 5_000) break; // the last seconds let in-flight work finish
    const elapsed = performance.now() - o.t0;
    if (!redisDone && elapsed > span * 0.33) {
      redisDone = true;
      note(o.redis.fault.what);
      note(await o.redis.fault.inject());
      continue;
    }
    if (!pgDone && elapsed > span * 0.66) {
      pgDone = true;
      note('postgres: proxy cut (connections reset, new ones refused) for 4 s');
      await o.pg.cut(4_000);
      note('postgres: proxy open again');
      continue;
    }
    const gatewaysUp = o.targets.filter((t) => t.app === 'gateway' && t.up).length;
    const candidates = o.targets.filter((t) => t.up && (t.app !== 'gateway' || gatewaysUp > 1));
    // Random among the least-killed, so every kind of replica dies at least once in a short run.
    const fewest = Math.min(...candidates.map((c) => c.kills));
    const pool = candidates.filter((c) => c.kills === fewest);
    const victim = pool[Math.floor(Math.random() * pool.length)];
    if (!victim) continue;
    note(`kill -9 ${victim.label} (pid ${victim.child?.pid})`);
    await victim.kill9();
    restarts.push(
      sleep(1_000)
        .then(() => victim.start())
        .then(
          () => note(`${victim.label} restarted`),
          (err: Error) => note(`${victim.label} failed to restart: ${err.message}`),
        ),
    );
  }
  await Promise.all(restarts);
  return events;
}
