/**
 * infra/docker/Dockerfile, parsed into instructions per stage (no engine here to build it), and the
 * repository facts the image depends on: compiled packages, the ports compose and k8s use.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const json = (path: string) => JSON.parse(read(path));

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  steps: Instruction[];
}

/** Instructions by stage: comments dropped, `\` continuations joined, parser directives ignored. */
function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    const cont = /\\\s*$/.test(line);
    current += (current ? ' ' : '') + line.replace(/\\\s*$/, '').trim();
    if (!cont) {
      if (current.trim()) logical.push(current.trim());
      current = '';
    }
  }
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(l);
    if (!m) throw new Error(`not an instruction: ${l}`);
    const ins = { op: m[1]!.toUpperCase(), args: m[2]! };
    if (ins.op === 'FROM') {
      const [, from, name] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args) ?? [];
      stages.push({ name: name ?? String(stages.length), from: from!, steps: [] });
    } else if (stages.length === 0) args.push(ins);
    else stages.at(-1)!.steps.push(ins);
  }
  return { args, stages };
}

const { args: globalArgs, stages } = parseDockerfile(read('infra/docker/Dockerfile'));
const runtime = stages.at(-1)!;
const all = (s: Stage, op: string) => s.steps.filter((i) => i.op === op).map((i) => i.args);
const one = (s: Stage, op: string) => all(s, op).at(-1) ?? '';
const runs = stages.flatMap((s) => all(s, 'RUN')).join('\n');
const rootPkg = json('package.json');

describe('infra/docker/Dockerfile', () => {
  test('multi-stage: prune, install, build, deploy; the runtime stage starts from the plain node image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(runs).toMatch(/turbo prune "@parley\/\$\{SERVICE\}".* --docker/);
    expect(runs).toMatch(/pnpm install --frozen-lockfile/);
    expect(runs).toMatch(/turbo run build --filter="@parley\/\$\{SERVICE\}\.\.\."/);
    expect(runs).toMatch(/deploy --prod/);
    expect(runtime.from).toBe('${NODE_IMAGE}');
    expect(globalArgs.map((a) => a.args)).toContain('NODE_IMAGE=node:24-alpine');
    // Only the deployed app reaches the runtime stage: no pnpm, turbo, sources or dev dependencies.
    expect(all(runtime, 'COPY')).toEqual(['--from=build /srv /srv']);
    expect(all(runtime, 'RUN')).toEqual([]);
  });

  test('SERVICE picks the app at build time and is kept in the image', () => {
    for (const s of stages.slice(1)) expect(all(s, 'ARG'), s.name).toContain('SERVICE');
    expect(one(runtime, 'ENV')).toMatch(/\bSERVICE=\$\{SERVICE\}/);
  });

  test('pnpm and turbo are the versions the repository pins', () => {
    expect(runs).toContain(rootPkg.packageManager);
    expect(runs).toContain(`turbo@${rootPkg.devDependencies.turbo}`);
  });

  test('turbo prune leaves root files out: the build stage copies the tsconfig every package extends', () => {
    const build = stages.find((s) => all(s, 'RUN').some((r) => r.includes('turbo run build')))!;
    expect(all(build, 'COPY')).toContain('--from=prune /repo/tsconfig.base.json ./');
    for (const app of ['gateway', 'agent-execution']) expect(json(`apps/${app}/tsconfig.json`).extends).toBe('../../tsconfig.base.json');
  });

  test('runs compiled code as a non-root user, with the CMD the build produces', () => {
    const user = one(runtime, 'USER');
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/); // numeric, so runAsNonRoot can verify it
    expect(one(runtime, 'WORKDIR')).toBe('/srv/app');
    expect(JSON.parse(one(runtime, 'CMD'))).toEqual(['node', '--enable-source-maps', 'dist/main.js']);
    expect(one(runtime, 'ENV')).toMatch(/\bNODE_ENV=production\b/);
  });

  test('HEALTHCHECK probes /healthz on HTTP_PORT, the port compose and Kubernetes use', () => {
    const hc = one(runtime, 'HEALTHCHECK');
    expect(hc).toMatch(/^--interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+ CMD /);
    expect(hc).toContain("'/healthz'");
    expect(hc).toContain('process.env.HTTP_PORT');
    const port = /\bHTTP_PORT=(\d+)/.exec(one(runtime, 'ENV'))?.[1];
    expect(one(runtime, 'EXPOSE')).toBe(port);
    const compose = parse(read('docker-compose.yml'), { merge: true });
    expect(compose.services.gateway.environment.HTTP_PORT).toBe(port);
    const common = parse(read('infra/k8s/base/common.yaml').split('\n---\n')[0]!);
    expect(common.data.HTTP_PORT).toBe(port);
  });

  test('every runnable app compiles to dist/main.js and its workspace dependencies resolve to dist/ without conditions', () => {
    for (const app of readdirSync(join(root, 'apps'))) {
      if (!existsSync(join(root, 'apps', app, 'package.json'))) continue;
      const pkg = json(`apps/${app}/package.json`);
      if (!pkg.scripts?.start) continue;
      expect(json(`apps/${app}/tsconfig.json`).compilerOptions).toMatchObject({ outDir: 'dist', rootDir: 'src' });
      expectProductionBuild(`apps/${app}`, pkg);
      expect(existsSync(join(root, 'apps', app, 'src/main.ts')), `${app} main.ts`).toBe(true);
      for (const dep of Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@parley/'))) {
        const depPkg = json(`packages/${dep.slice('@parley/'.length)}/package.json`);
        for (const [sub, entry] of Object.entries<Record<string, string>>(depPkg.exports)) {
          expect(entry.default, `${dep} ${sub}: plain node resolves "default"`).toMatch(/^\.\/dist\//);
        }
        expect(depPkg.scripts?.build, `${dep} has no build`).toBeDefined();
        expectProductionBuild(`packages/${dep.slice('@parley/'.length)}`, depPkg);
      }
    }
  });

  /** Test harnesses and tests never compile into a production dist/: the build uses tsconfig.build.json, which leaves them out. */
  function expectProductionBuild(dir: string, pkg: { scripts?: Record<string, string> }) {
    expect(pkg.scripts?.build, `${dir} build`).toBe('tsc -p tsconfig.build.json');
    const build = json(`${dir}/tsconfig.build.json`);
    expect(build.extends, `${dir}/tsconfig.build.json`).toBe('./tsconfig.json');
    for (const pattern of ['src/**/*.test.ts', 'src/testing/**', 'src/tests/**'])
      expect(build.exclude, `${dir}/tsconfig.build.json excludes ${pattern}`).toContain(pattern);
  }

  test('.dockerignore keeps host builds, dependencies and secrets out of the context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['**/node_modules', '**/dist', '.git', '.env', '.gitignore']) expect(ignored).toContain(p);
  });

  test('the parser joins continuations and splits stages', () => {
    const parsed = parseDockerfile('ARG X=1\nFROM a AS one\n# c\nRUN a \\\n  && b\nFROM --platform=$P b\nCMD ["x"]\n');
    expect(parsed.args).toEqual([{ op: 'ARG', args: 'X=1' }]);
    expect(parsed.stages).toEqual([
      { name: 'one', from: 'a', steps: [{ op: 'RUN', args: 'a && b' }] },
      { name: '1', from: 'b', steps: [{ op: 'CMD', args: '["x"]' }] },
    ]);
  });
});
