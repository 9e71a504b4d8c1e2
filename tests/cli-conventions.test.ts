// The shared CLI conventions (scripts/cli) in-process: what every command of ops, load and chaos gets.
import { describe, expect, test, vi } from 'vitest';
import { helpText, parseCommand, route, type CommandSpec, type Subcommand } from '../scripts/cli/args.js';
import { UsageError } from '../scripts/cli/errors.js';
import { startProgress } from '../scripts/cli/progress.js';
import { renderTable } from '../scripts/cli/table.js';

const spec = {
  usage: 'tool thing',
  args: '<name>',
  summary: 'does a thing',
  flags: {
    count: { type: 'string', arg: '<N>', help: 'how many' },
    scale: { type: 'string', multiple: true, help: 'repeatable' },
    json: { type: 'boolean', help: 'JSON' },
  },
  positionals: { min: 1, max: 1 },
} satisfies CommandSpec;

const usageError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no UsageError');
};

describe('parseCommand', () => {
  test('flags, repeatable flags and defaults', () => {
    const p = parseCommand(spec, ['x', '--count=3', '--scale', 'a=1', '--scale', 'b=2']);
    expect(p).toEqual({ flags: { count: '3', scale: ['a=1', 'b=2'], json: false }, positionals: ['x'], help: false });
  });

  test('an unknown flag, a missing value, a stray or missing argument are named', () => {
    expect(usageError(() => parseCommand(spec, ['x', '--frob']))).toBe('unknown flag --frob');
    expect(usageError(() => parseCommand(spec, ['x', '--count']))).toBe('--count needs a value');
    expect(usageError(() => parseCommand(spec, ['x', 'y']))).toBe('unexpected argument "y"');
    expect(usageError(() => parseCommand(spec, []))).toBe('missing <name>');
  });

  test('--help wins over any other problem, and lists every flag with -h', () => {
    expect(parseCommand(spec, ['--frob', '-h']).help).toBe(true);
    const text = helpText(spec);
    expect(text.split('\n')[0]).toBe('usage: tool thing <name> [flags]');
    expect(text).toMatch(/^ {6}--count <N> +how many$/m);
    expect(text).toMatch(/^ {2}-h, --help +this help$/m);
  });
});

describe('route', () => {
  const noop: Subcommand = { spec, run: () => Promise.resolve(0) };
  const commands = { status: noop, 'dlq list': noop, 'dlq replay': noop };

  test('finds the command, two words deep, and hands it the rest', () => {
    expect(route('tool', commands, ['dlq', 'list', 'agent', '--json'])).toEqual({ command: noop, rest: ['agent', '--json'] });
    expect(route('tool', commands, ['status'])).toEqual({ command: noop, rest: [] });
  });

  test('an unknown command or subcommand is named; a group shows its own commands', () => {
    expect(usageError(() => route('tool', commands, ['nope']))).toBe('unknown command "nope"');
    expect(usageError(() => route('tool', commands, ['dlq', 'nope']))).toBe('unknown command "dlq nope"');
    expect(usageError(() => route('tool', commands, ['dlq']))).toBe('"dlq" needs a subcommand');
    expect(usageError(() => route('tool', commands, ['--frob']))).toBe('unknown flag --frob');
    expect(route('tool', commands, ['dlq', '--help']).help).toMatch(/^ {2}dlq list <name> +does a thing$/m);
    expect(route('tool', commands, ['--help']).help).not.toContain('dlq list <name> [');
  });
});

describe('renderTable', () => {
  const rows = [
    { service: 'agent', pending: 3, reason: 'x'.repeat(60) },
    { service: 'query', pending: 12, reason: null },
  ];

  test('aligned columns, numbers to the right, a long cell cut with …, no index column', () => {
    expect(renderTable(rows).split('\n')).toEqual([
      'service  pending  reason',
      '───────  ───────  ────────────────────────────────────────',
      `agent          3  ${'x'.repeat(39)}…`,
      'query         12  -',
    ]);
  });

  test('--full keeps whole cells; line breaks in a cell never break the table', () => {
    expect(renderTable(rows, { full: true })).toContain('x'.repeat(60));
    expect(renderTable([{ a: 'one\ntwo' }]).split('\n')).toHaveLength(3);
    expect(renderTable([])).toBe('(none)');
  });
});

describe('progress on long runs', () => {
  const sink = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, stream: { isTTY, write: (t: string) => writes.push(t) > 0 } as unknown as NodeJS.WriteStream };
  };

  test('in a log: a line at the first second, then one per logEveryMs; on a terminal: the line rewritten every second', () => {
    vi.useFakeTimers();
    try {
      let n = 0;
      const log = sink(false);
      const p = startProgress(() => `working ${++n}`, { stream: log.stream, logEveryMs: 10_000 });
      vi.advanceTimersByTime(999);
      expect(log.writes).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(log.writes).toEqual(['working 1\n']);
      vi.advanceTimersByTime(9_000);
      expect(log.writes).toHaveLength(1);
      vi.advanceTimersByTime(1_000);
      expect(log.writes).toEqual(['working 1\n', 'working 2\n']);
      p.stop();

      const tty = sink(true);
      const q = startProgress(() => 'on a terminal', { stream: tty.stream });
      vi.advanceTimersByTime(2_000);
      expect(tty.writes).toEqual(['\r\x1b[2Kon a terminal', '\r\x1b[2Kon a terminal']);
      q.stop();
      vi.advanceTimersByTime(5_000);
      expect(tty.writes.at(-1)).toBe('\r\x1b[2K'); // stopped: the line cleared, nothing after
      expect(tty.writes).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
