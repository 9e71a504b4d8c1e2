// The launcher itself has no dependencies; after install it borrows ioredis and pg from a workspace package.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const CANDIDATES = ['packages/service-kit', 'packages/testing', 'packages/db', 'packages/bus'];

export function workspaceRequire(root, name) {
  for (const dir of CANDIDATES) {
    const pkg = join(root, dir, 'package.json');
    if (!existsSync(pkg)) continue;
    try {
      return createRequire(pkg)(name);
    } catch {
      // not a dependency of this package; try the next
    }
  }
  throw new Error(`cannot load "${name}" from the workspace; run \`node scripts/pnpm.mjs install\``);
}
