// Makes pino JSON lines readable in a terminal: time, level, message, then the fields that matter.
const useColor = !process.env.NO_COLOR && (process.stdout.isTTY || Boolean(process.env.FORCE_COLOR));
const ansi = (code) => (s) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
export const c = { red: ansi(31), yellow: ansi(33), gray: ansi(90), bold: ansi(1), green: ansi(32), cyan: ansi(36) };

const PREFIX_COLORS = [36, 35, 32, 34, 33, 96, 95, 92, 94, 93];
export function prefixColor(i) {
  return ansi(PREFIX_COLORS[i % PREFIX_COLORS.length]);
}

const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const LEVEL_STYLE = { trace: c.gray, debug: c.gray, info: c.green, warn: c.yellow, error: c.red, fatal: c.red };
// Already in the prefix or pure noise in a terminal.
const HIDDEN = new Set(['level', 'time', 'msg', 'service', 'instance', 'pid', 'hostname', 'v']);

export function prettyLine(line) {
  if (!line.startsWith('{')) return line;
  let o;
  try {
    o = JSON.parse(line);
  } catch {
    return line;
  }
  const level = typeof o.level === 'number' ? (LEVELS[o.level] ?? String(o.level)) : String(o.level ?? 'info');
  const style = LEVEL_STYLE[level] ?? ((s) => s);
  const time = o.time ? new Date(o.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(o)
    .filter(([k]) => !HIDDEN.has(k) && k !== 'err')
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  let out = `${time ? c.gray(time) + ' ' : ''}${style(level.toUpperCase().padEnd(5))} ${o.msg ?? ''}${fields.length ? ' ' + c.gray(fields.join(' ')) : ''}`;
  if (o.err && typeof o.err === 'object') {
    const stack = o.err.stack ?? `${o.err.type ?? 'Error'}: ${o.err.message}`;
    out +=
      '\n' +
      String(stack)
        .split('\n')
        .map((l) => '    ' + c.red(l))
        .join('\n');
  }
  return out;
}
