import { spawn, type ChildProcess } from 'node:child_process';
import { watchRedisRouting } from './redis-routing-watch.js';

export interface TsProcess {
  child: ChildProcess;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  /** Resolves when a line of output contains `text`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * PARLEY_BUILT=1 (`npm run bench` sets it after building): run what the image ships, each app's and
 * package's compiled dist/ (`node dist/main.js`), rather than the TypeScript sources through tsx,
 * whose per-closure name helpers and loader thread production does not pay.
 */
const runBuilt = process.env.PARLEY_BUILT === '1';

/** `apps/x/src/main.ts` → `apps/x/dist/main.js` when running the build; anything else (a bench worker) as given. */
function entryOf(file: string): string {
  if (!runBuilt) return file;
  const m = /^(.*(?:^|\/)(?:apps|packages)\/[^/]+)\/src\/(.+)\.ts$/.exec(file);
  return m ? `${m[1]}/dist/${m[2]}.js` : file;
}

/** The message of the first `fatal` line a service logged (pino JSON), if any. */
export function fatalMessage(output: string): string | undefined {
  const line = output.split('\n').find((l) => l.includes('"level":"fatal"'));
  return line ? (JSON.parse(line) as { msg: string }).msg : undefined;
}

/**
 * A spawned process dies with the test process however that ends: a test whose setup failed (a
 * service that never said `ready` in time) never stops what it spawned, and vitest kills its workers
 * without running exit handlers. The launcher's tether preload does it: EOF on fd 3, a pipe only this
 * process holds, makes the child stop itself (scripts/launcher/tether.mjs).
 */
const TETHER = new URL('../../../scripts/launcher/tether.mjs', import.meta.url).href;

/** Runs a TypeScript file in a child process, resolving our packages to their source like the launcher does (or to the build, see above). */
export function spawnTs(file: string, env: Record<string, string> = {}, args: string[] = [], nodeArgs: string[] = []): TsProcess {
  const child = spawn(
    process.execPath,
    [...nodeArgs, `--import=${TETHER}`, ...(runBuilt ? [] : ['--conditions=@parley/source']), '--import', 'tsx', entryOf(file), ...args],
    { env: { ...process.env, ...env, PARLEY_LAUNCHER_FD: '3' }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
  );
  child.stdio[3]?.on('error', () => {}); // the child's end closes when it exits; nothing to report
  let out = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const onData = (b: Buffer) => {
    const text = b.toString();
    out += text;
    watchRedisRouting(text);
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    waitForOutput(text, timeoutMs = 15_000) {
      if (out.includes(text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" in output within ${timeoutMs} ms:\n${out}`)), timeoutMs);
        waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) });
        void exited.then((code) => reject(new Error(`process exited (${code}) before printing "${text}":\n${out}`)));
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
