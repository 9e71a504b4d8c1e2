// The launcher's throwaway redis-server (started when no Redis is reachable) goes when the launcher goes, however it went.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => {}); // refused is the answer being asked for
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

test('a SIGKILLed launcher leaves no redis-server behind', async () => {
  // A stand-in launcher: starts the throwaway server, prints its URL, then waits to be killed.
  const script = `
    const { startThrowawayRedis } = await import(${JSON.stringify(new URL('../scripts/launcher/redis.mjs', import.meta.url).href)});
    const r = await startThrowawayRedis(${JSON.stringify(root)}, () => {});
    console.log('URL ' + r.url);
    setInterval(() => {}, 60_000);
  `;
  const launcher = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    launcher.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /URL (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    launcher.once('exit', (code) => reject(new Error(`stand-in launcher exited (${code}) before starting redis: ${out}`)));
  });
  expect(await answers(url)).toBe(true);

  launcher.kill('SIGKILL');
  const deadline = Date.now() + 10_000;
  while ((await answers(url)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(await answers(url)).toBe(false);
}, 30_000);
