import { spawn, type ChildProcess } from 'node:child_process';

export interface TsProcess {
  child: ChildProcess;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  /** Resolves when a line of output contains `text`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs a TypeScript file in a child process, resolving our packages to their source like the launcher does. */
export function spawnTs(file: string, env: Record<string, string> = {}, args: string[] = [], nodeArgs: string[] = []): TsProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--conditions=@parley/source', '--import', 'tsx', file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const onData = (b: Buffer) => {
    out += b.toString();
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
