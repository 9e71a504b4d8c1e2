import { fileURLToPath } from 'node:url';
import { spawnTs } from '@parley/testing';
import { describe, expect, test } from 'vitest';

const fixture = fileURLToPath(new URL('../test-fixtures/health-only.ts', import.meta.url));

function readyPort(output: string): number {
  const line = output.split('\n').find((l) => l.includes('"msg":"ready"'));
  return (JSON.parse(line!) as { httpPort: number }).httpPort;
}

describe('shutdown', () => {
  test('SIGTERM runs the closers in order and exits 0', async () => {
    const p = spawnTs(fixture);
    await p.waitForOutput('"msg":"ready"');
    const port = readyPort(p.output());
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const code = await p.kill('SIGTERM');
    expect(code).toBe(0);
    const msgs = p
      .output()
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toEqual(['ready', 'shutting down', 'app closed', 'stopped']);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  test('a second signal exits at once', async () => {
    const p = spawnTs(fixture);
    await p.waitForOutput('"msg":"ready"');
    p.child.kill('SIGINT');
    await p.waitForOutput('shutting down');
    const code = await p.kill('SIGINT');
    expect(code).toBe(1);
    expect(p.output()).toContain('second signal: exiting now');
    expect(p.output()).not.toContain('app closed');
  });
});
