// Preloaded (NODE_OPTIONS --import) into every Node process the launcher starts: the launcher holds
// the other end of a pipe on fd PARLEY_LAUNCHER_FD, and the kernel closes it however the launcher
// ends (Ctrl-C, SIGKILL, a closed terminal, a crash). EOF on it means "the launcher is gone": the
// process sends itself SIGTERM, so its own graceful stop runs exactly as if the launcher had asked.
// Linux's PR_SET_PDEATHSIG would do the same but is not reachable from Node without native code.
import { Socket } from 'node:net';
import { isMainThread } from 'node:worker_threads';

export const LAUNCHER_FD_ENV = 'PARLEY_LAUNCHER_FD';
/** Past this after the launcher went, a process still running (a stuck graceful stop) exits anyway. */
const HARD_EXIT_MS = Number(process.env.PARLEY_TETHER_HARD_EXIT_MS ?? 30_000);

const fd = Number(process.env[LAUNCHER_FD_ENV]);
// Only the process the launcher started watches the pipe; its own children (if any) do not inherit the duty.
delete process.env[LAUNCHER_FD_ENV];

if (isMainThread && Number.isInteger(fd) && fd > 2) {
  let gone = false;
  const onGone = () => {
    if (gone) return;
    gone = true;
    // Whoever read our stdout and stderr is gone too: writing there must not crash the graceful stop.
    for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
    setTimeout(() => process.exit(1), HARD_EXIT_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  };
  try {
    const pipe = new Socket({ fd, readable: true, writable: false });
    pipe.on('data', () => {}); // nothing is ever sent; reading is what lets EOF be seen
    pipe.once('end', onGone);
    pipe.once('close', onGone);
    pipe.once('error', onGone);
    pipe.unref(); // watching must never be what keeps a finished process alive
  } catch {
    // fd is not a pipe we can watch (started by hand with the variable set): nothing to tether to.
  }
}
