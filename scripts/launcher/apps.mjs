// Finds the runnable apps (a folder under apps/ whose package.json has a `start` script) and the replicas asked for.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function readPackage(dir) {
  const file = join(dir, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

/** @returns {{ apps: Array<{ name: string, dir: string, script: string }>, skipped: string[] }} */
export function discoverApps(appsDir) {
  const apps = [];
  const skipped = [];
  const names = existsSync(appsDir)
    ? readdirSync(appsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
    : [];
  for (const name of names.sort()) {
    const dir = join(appsDir, name);
    const script = readPackage(dir)?.scripts?.start;
    if (!script) continue;
    // An app whose entry file is not written yet would only crash; say so instead.
    const missing = script.split(/\s+/).filter((t) => /^[\w./-]+\.(ts|mts|js|mjs|cjs)$/.test(t) && !existsSync(join(dir, t)));
    if (missing.length) skipped.push(`${name} (its start script needs ${missing.join(', ')}, which does not exist yet)`);
    else apps.push({ name, dir, script });
  }
  return { apps, skipped };
}

/** `--scale a=3 --scale=b=2 --scale c=1,d=2` → Map; every app not named runs once. */
export function parseArgs(argv) {
  const scale = new Map();
  let help = false;
  let redisCluster = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--redis-cluster') redisCluster = true;
    else if (arg === '--scale' || arg.startsWith('--scale=')) {
      const value = arg === '--scale' ? argv[++i] : arg.slice('--scale='.length);
      for (const pair of (value ?? '').split(',')) {
        const m = /^([\w-]+)=(\d+)$/.exec(pair);
        if (!m) throw new Error(`--scale expects name=N (e.g. --scale agent-execution=3), got "${pair}"`);
        scale.set(m[1], Number(m[2]));
      }
    } else throw new Error(`unknown argument "${arg}" (try --help)`);
  }
  return { scale, help, redisCluster };
}

/** What `pnpm run` would do: the script through sh, with the package's and the root's binaries on PATH. */
export function scriptCommand(root, dir, script) {
  const path = [join(dir, 'node_modules', '.bin'), join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter);
  // `exec` makes the service the launcher's own child instead of a grandchild behind sh, so it gets
  // signals directly and is reaped by the launcher (not left a zombie of a non-reaping init).
  const simple = !/[;&|<>()`$\n]/.test(script);
  return { cmd: 'sh', args: ['-c', simple ? `exec ${script}` : script], cwd: dir, path };
}
