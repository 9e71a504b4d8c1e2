// The Node.js the benchmarks run on: the major version the images ship (infra/docker/Dockerfile's
// NODE_IMAGE), because a benchmark measures what ships and the runtime alone moves the figures (LangGraph's
// AsyncLocalStorage costs half as much CPU on Node 24 as on 20). When the machine's node is another
// major, the official build of the right one is fetched from the npm registry (the node-<os>-<arch>
// packages hold the nodejs.org binaries) into node_modules/.cache, once. BENCH_NODE=system keeps the
// machine's own; BENCH_NODE=/path/to/node names one.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The major version of `ARG NODE_IMAGE=node:<major>-…` in the Dockerfile. */
export function imageNodeMajor() {
  const dockerfile = readFileSync(join(root, 'infra', 'docker', 'Dockerfile'), 'utf8');
  const m = /^ARG NODE_IMAGE=node:(\d+)/m.exec(dockerfile);
  if (!m) throw new Error('infra/docker/Dockerfile has no `ARG NODE_IMAGE=node:<major>…` line');
  return Number(m[1]);
}

/**
 * The node binary to run the benchmarks with, and why. Falls back to the machine's node, saying so,
 * when the image's cannot be had (no registry, an unsupported platform).
 */
export function benchNode(log = console.log) {
  const choice = process.env.BENCH_NODE;
  if (choice && choice !== 'system') return { path: choice, why: 'BENCH_NODE' };
  const major = imageNodeMajor();
  const running = Number(process.versions.node.split('.')[0]);
  if (choice === 'system' || running === major) return { path: process.execPath, why: running === major ? "the image's major" : 'BENCH_NODE=system' };
  const pkg = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const cache = join(root, 'node_modules', '.cache', 'parley-bench-node', String(major));
  const binary = join(cache, 'package', 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(binary)) {
    log(`the images ship Node ${major}; fetching ${pkg}@${major} from the npm registry (once) to run the benchmarks on it…`);
    try {
      rmSync(cache, { recursive: true, force: true });
      mkdirSync(cache, { recursive: true });
      execFileSync('npm', ['pack', `${pkg}@${major}`, '--pack-destination', cache, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
      const tarball = readdirSync(cache).find((f) => f.endsWith('.tgz'));
      if (!tarball) throw new Error('npm pack wrote no tarball');
      execFileSync('tar', ['-xzf', join(cache, tarball), '-C', cache]);
      rmSync(join(cache, tarball));
    } catch (err) {
      rmSync(cache, { recursive: true, force: true });
      log(
        `WARNING: could not fetch Node ${major} (${err instanceof Error ? err.message.split('\n')[0] : err}); the benchmarks run on this machine's Node ${process.version}, not the images'`,
      );
      return { path: process.execPath, why: 'fallback' };
    }
  }
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (!version.startsWith(`v${major}.`)) {
    log(`WARNING: ${binary} is not Node ${major} (${version || 'does not run'}); the benchmarks run on this machine's Node ${process.version}`);
    return { path: process.execPath, why: 'fallback' };
  }
  return { path: binary, why: `the images ship Node ${major}` };
}
