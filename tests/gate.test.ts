// The gate catches a type error and a floating promise in every app: the probe below is written into
// each app's src, and the real typecheck programs and lint config must name it.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const apps = readdirSync(join(root, 'apps'));
const probes = apps.map((app) => join('apps', app, 'src', 'gate-probe.ts'));
const PROBE = `export async function probe(): Promise<void> {
  const count: number = 'not a number';
  Promise.resolve(count);
}
`;

afterAll(() => {
  for (const p of probes) rmSync(join(root, p), { force: true });
});

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(join(root, 'node_modules', '.bin', cmd), args, { cwd: root, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

test('a type error and a floating promise in any app fail the gate', { timeout: 180_000 }, () => {
  for (const p of probes) writeFileSync(join(root, p), PROBE);

  const node = run('tsc', ['--noEmit', '-p', 'tsconfig.json']);
  const web = run('tsc', ['--noEmit', '-p', 'apps/web/tsconfig.json']);
  expect(node.status).not.toBe(0);
  expect(web.status).not.toBe(0);
  const typeErrors = `${node.out}${web.out}`;
  for (const p of probes) expect(typeErrors, `typecheck misses ${p}`).toMatch(new RegExp(`${p.replaceAll('/', '\\/')}\\(2,\\d+\\): error TS2322`));

  const lint = spawnSync(join(root, 'node_modules', '.bin', 'eslint'), ['--no-cache', '--format', 'json', ...probes], { cwd: root, encoding: 'utf8' });
  expect(lint.status).not.toBe(0);
  const reports = JSON.parse(lint.stdout) as Array<{ filePath: string; messages: Array<{ ruleId: string | null; line: number }> }>;
  for (const p of probes) {
    const report = reports.find((r) => r.filePath === join(root, p));
    expect(report?.messages, `lint misses ${p}`).toContainEqual(expect.objectContaining({ ruleId: '@typescript-eslint/no-floating-promises', line: 3 }));
  }
});
