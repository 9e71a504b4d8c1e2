// The chaos run starts each service replica itself (not through the launcher, which never restarts a
// child), so it can kill -9 one and start it again under the same INSTANCE_ID: a replica that keeps
// its consumer name drains its own pending work on restart.
import { spawn, type ChildProcess } from 'node:child_process';
import type { WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../load/platform.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export class Replica {
  child: ChildProcess | null = null;
  up = false;
  starts = 0;
  kills = 0;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly app: string,
    readonly label: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: WriteStream,
  ) {}

  /**
   * Starts the process and waits for /healthz. A service that exits at start (Redis still down after
   * a restart: services fail fast on purpose) is started again, as an orchestrator's restart policy would.
   */
  async start(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; attempt <= 20 && Date.now() < deadline; attempt++) {
      if (await this.launch(deadline)) return;
      await new Promise((r) => setTimeout(r, Math.min(5_000, 500 * attempt)));
    }
    throw new Error(`${this.label} did not answer /healthz within ${timeoutMs / 1000} s; see the chaos log`);
  }

  private async launch(deadline: number): Promise<boolean> {
    this.starts++;
    const child = spawn(process.execPath, ['--conditions=@parley/source', '--import', 'tsx', 'src/main.ts'], {
      cwd: `${root}apps/${this.app}`,
      env: { ...process.env, ...this.env, SERVICE_NAME: this.app, INSTANCE_ID: this.label, HTTP_PORT: String(this.port), HTTP_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const write = (line: string) => this.log.write(`${this.label} │ ${line}\n`);
    createInterface({ input: child.stdout! }).on('line', write);
    createInterface({ input: child.stderr! }).on('line', write);
    this.exited = new Promise((resolve) => child.once('exit', () => ((this.up = false), resolve())));
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      const ok = await fetch(`http://127.0.0.1:${this.port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        this.up = true;
        return true;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.exited;
    this.log.write(`${this.label} │ (chaos) exited before it was healthy; starting it again\n`);
    return false;
  }

  async kill9(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.kills++;
    this.up = false;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export async function replica(app: string, label: string, env: NodeJS.ProcessEnv, log: WriteStream): Promise<Replica> {
  return new Replica(app, label, await freePort(), env, log);
}
