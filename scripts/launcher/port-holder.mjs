// Who listens on a TCP port: on Linux from /proc (the socket's inode, then the process holding it),
// elsewhere from lsof. Best effort: null when it cannot tell (another user's process, no lsof).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const LISTEN = '0A';

/** @returns {{ pid: number, command: string, cwd: string | null } | null} */
export function portHolder(port) {
  return process.platform === 'linux' ? fromProc(port) : fromLsof(port);
}

/** `pid 1234 (node … src/main.ts in /repo/apps/gateway)`, or a sentence saying it is unknown. */
export function describeHolder(port) {
  const h = portHolder(port);
  if (!h) return 'a process this user cannot see';
  const command = h.command.replace(/\s+/g, ' ');
  return `pid ${h.pid} (${command.length > 100 ? `${command.slice(0, 99)}…` : command}${h.cwd ? ` in ${h.cwd}` : ''})`;
}

function fromProc(port) {
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 table on this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== LISTEN) continue;
      if (parseInt(f[1].split(':')[1], 16) === port) inodes.add(`socket:[${f[9]}]`);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      let target;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (inodes.has(target)) return { pid: Number(pid), command: cmdline(pid), cwd: cwdOf(pid) };
    }
  }
  return null;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

function cwdOf(pid) {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

function fromLsof(port) {
  const r = spawnSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { encoding: 'utf8' });
  const pid = Number(/^p(\d+)$/m.exec(r.stdout ?? '')?.[1]);
  if (!pid) return null;
  return { pid, command: /^c(.*)$/m.exec(r.stdout)?.[1] ?? '?', cwd: null };
}
