// The three ways a command ends badly, each with its exit code: a usage mistake (2), a dependency
// that is down (1, one line naming what and where), anything else (1, one line; the stack only
// with DEBUG set, since an operator acts on the message, not the trace).
import { safeUrl } from '../../packages/service-kit/src/safe-url.js';

export class UsageError extends Error {
  constructor(
    message: string,
    /** The usage of the command that was being parsed, shown under the message. */
    readonly usage: string,
  ) {
    super(message);
  }
}

export class DependencyDown extends Error {}

/** `Redis at redis://127.0.0.1:6379 is not reachable (ECONNREFUSED); start it or set REDIS_URL`. */
export function dependencyDown(what: string, url: string, cause: unknown, fix: string): DependencyDown {
  const c = cause as { code?: string; message?: string } | undefined;
  const why = c?.code ?? c?.message ?? String(cause);
  // A URL is shown without its password; a list of host:port seeds (REDIS_CLUSTER_NODES) holds none.
  const where = url.includes('://') ? safeUrl(url) : url;
  return new DependencyDown(`${what} at ${where} is not reachable (${why}); ${fix}`);
}

/** Runs a command's main and turns its outcome into an exit code and at most a few lines on stderr. */
export async function runCli(program: string, main: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (err) {
    code = report(program, err);
  }
  // Exit explicitly: a half-open client socket must not keep a finished command alive.
  process.exit(code);
}

export function report(program: string, err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`${program}: ${err.message}\n${err.usage}\n`);
    return 2;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`${program}: ${e.message}\n`);
  if (!(err instanceof DependencyDown) && process.env['DEBUG']) process.stderr.write(`${e.stack ?? ''}\n`);
  return 1;
}
