/**
 * The README's "API" section is a shell session a reader pastes (issue 21): this test runs its `sh`
 * blocks in order with the real curl and jq against a gateway, with the base URL substituted, and
 * checks every status the README promises (`# → <status>` after each command). The token is the one
 * the README's own dev-token command has the gateway mint, as a reader would get it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('readmeapi', { query: true, gateway: { AUTH_DEV_TOKENS: 'true' } });
const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The `sh` blocks of the README's "## API" section, in order. */
function apiBlocks(): string[] {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf('\n## API\n');
  expect(start, 'the README has an "## API" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

/** Runs a bash script without blocking this process (the gateway answering it runs in it). */
function bash(script: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { env: { ...process.env, ...env }, timeout: 90_000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

describe("the README's API section", () => {
  test('every curl example answers the status the README says', async () => {
    const blocks = apiBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    // Each command is the text up to its `# → <status>` line.
    const commands: Array<{ text: string; status: number }> = [];
    for (const block of blocks) {
      const parts = block.split(/^# → (\d{3})\b.*$/m);
      for (let i = 0; i + 1 < parts.length; i += 2) commands.push({ text: parts[i] ?? '', status: Number(parts[i + 1]) });
      // One promised status per curl command: the README cannot run more than it promises.
      expect([...block.matchAll(/\bcurl\s/g)].length, block).toBe(Math.floor(parts.length / 2));
    }
    const script = blocks.join('\n').replace(/^BASE=.*$/m, `BASE=${platform.gw.http}`);
    expect(script).toContain(`BASE=${platform.gw.http}`);

    const dir = mkdtempSync(join(tmpdir(), 'readme-api-'));
    const statusFile = join(dir, 'statuses');
    writeFileSync(statusFile, '');
    // Every curl also writes its HTTP status to the status file and its body to a file of its own (by its
    // position); the body still goes where the README sends it (the screen, or jq).
    const prelude = [
      'set -euo pipefail',
      `curl() { local n; n=$(wc -l < "$STATUS_FILE"); command curl -w '%{stderr}%{http_code}\\n' "$@" 2>>"$STATUS_FILE" | tee "$OUT_DIR/$n"; }`,
      '',
    ].join('\n');
    const run = await bash(prelude + script, { STATUS_FILE: statusFile, OUT_DIR: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const got = readFileSync(statusFile, 'utf8').trim().split('\n').map(Number);
    expect(got).toEqual(commands.map((c) => c.status));

    // What the statuses alone do not show.
    const output = (has: string) => readFileSync(join(dir, String(commands.findIndex((c) => c.text.includes(has)))), 'utf8');
    expect(JSON.parse(output('x-request-id: my-req-1'))).toMatchObject({ error: { code: 'not_found', requestId: 'my-req-1' } });
    expect(JSON.parse(output('"topic":"land"'))).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    const keyed = commands.flatMap((c, i) =>
      c.text.includes('"topic":"sea"') ? [JSON.parse(readFileSync(join(dir, String(i)), 'utf8')) as { runId: string }] : [],
    );
    expect(keyed).toHaveLength(2);
    expect(keyed[1]?.runId).toBe(keyed[0]?.runId);
    expect(JSON.parse(output('"$BASE/api/v1/runs/$RUN"'))).toMatchObject({ status: 'SUCCEEDED', flow: 'poem' });
    const full = output('/events" -H "authorization: Bearer $T"\n');
    expect(full).toMatch(/^id: 1$/m);
    expect(full).toMatch(/^event: SUCCESS$/m);
    const resumed = output('Last-Event-ID: 1');
    expect(resumed).not.toMatch(/^id: 1$/m);
    expect(resumed).toMatch(/^event: SUCCESS$/m);
  });
});
