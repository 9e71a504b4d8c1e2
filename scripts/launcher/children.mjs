// Runs each service as its own process group, prefixes its output, and stops them all on request.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { prettyLine } from './pretty.mjs';

const TETHER_FD = 3;
const TETHER = new URL('./tether.mjs', import.meta.url).href;

/**
 * The environment that ties a Node child's life to the launcher's (see tether.mjs): the preload, and
 * which fd is the pipe whose far end only the launcher holds.
 */
export function tetherEnv(env) {
  return { ...env, PARLEY_LAUNCHER_FD: String(TETHER_FD), NODE_OPTIONS: [env.NODE_OPTIONS, `--import=${TETHER}`].filter(Boolean).join(' ') };
}

export function startChild({ label, color, width, command, env, onLine }) {
  // Own process group: Ctrl-C in the terminal reaches only the launcher, which then stops each
  // child exactly once with SIGTERM (a second signal would make a service skip its graceful path).
  // Because of that, nothing the terminal does reaches a child when the launcher dies hard: fd 3 is
  // the pipe that tells it (tether.mjs).
  const child = spawn(command.cmd, command.args, {
    cwd: command.cwd,
    env: tetherEnv({ ...env, PATH: command.path }),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdio[TETHER_FD].on('error', () => {}); // the child's end closes when it exits; nothing to report
  const prefix = color(`${label.padEnd(width)} │`);
  const print = (line) => {
    for (const l of prettyLine(line).split('\n')) process.stdout.write(`${prefix} ${l}\n`);
    onLine?.(line);
  };
  createInterface({ input: child.stdout }).on('line', print);
  createInterface({ input: child.stderr }).on('line', print);
  // 'close', not 'exit': only then has every line the process wrote been read and printed.
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { label, child, exited, running: () => child.exitCode === null && child.signalCode === null };
}

function signalGroup(proc, signal) {
  try {
    process.kill(-proc.child.pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to every child, then SIGKILL to what is still running after `timeoutMs`. */
export async function stopAll(procs, timeoutMs, say) {
  const running = procs.filter((p) => p.running());
  for (const p of running) signalGroup(p, 'SIGTERM');
  const timer = setTimeout(() => {
    for (const p of running.filter((x) => x.running())) {
      say(`${p.label} did not stop within ${timeoutMs} ms; killing it`);
      signalGroup(p, 'SIGKILL');
    }
  }, timeoutMs);
  await Promise.all(running.map((p) => p.exited));
  clearTimeout(timer);
}

export function signalAll(procs, signal) {
  for (const p of procs) if (p.running()) signalGroup(p, signal);
}
