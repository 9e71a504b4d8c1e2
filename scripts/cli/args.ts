// Flags and subcommands on node:util parseArgs: every command has --help, and an unknown command or
// flag is named in the error (UsageError, exit 2) instead of a bare usage dump.
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value's placeholder in --help, e.g. '<N>'. */
  arg?: string;
  help: string;
}

export interface CommandSpec<F extends Record<string, FlagSpec> = Record<string, FlagSpec>> {
  /** How it is typed, e.g. 'npm run ops -- dlq list'. */
  usage: string;
  /** Positionals as shown in --help, e.g. '<service> [limit]'. */
  args?: string;
  summary: string;
  flags: F;
  /** Positional count accepted (default: none). */
  positionals?: { min: number; max: number };
  /** Lines after the flags: environment, examples. */
  notes?: string[];
}

type Value<S extends FlagSpec> = S['type'] extends 'boolean' ? boolean : S['multiple'] extends true ? string[] : string | undefined;
export type Flags<F extends Record<string, FlagSpec>> = { [K in keyof F]: Value<F[K]> };

export interface Parsed<F extends Record<string, FlagSpec>> {
  flags: Flags<F>;
  positionals: string[];
  help: boolean;
}

const HELP: FlagSpec = { type: 'boolean', short: 'h', help: 'this help' };

export function helpText(spec: CommandSpec): string {
  const flags = Object.entries({ ...spec.flags, help: HELP }).map(([name, f]) => [
    `${f.short ? `-${f.short}, ` : '    '}--${name}${f.arg ? ` ${f.arg}` : ''}`,
    f.help,
  ]);
  const w = Math.max(...flags.map(([l]) => l!.length));
  return [
    `usage: ${spec.usage}${spec.args ? ` ${spec.args}` : ''}${Object.keys(spec.flags).length ? ' [flags]' : ''}`,
    `  ${spec.summary}`,
    'flags:',
    ...flags.map(([l, h]) => `  ${l!.padEnd(w)}  ${h}`),
    ...(spec.notes ?? []),
  ].join('\n');
}

/** Parses `argv` against `spec`; --help wins over every other problem (so `x --bad --help` still helps). */
export function parseCommand<F extends Record<string, FlagSpec>>(spec: CommandSpec<F>, argv: string[]): Parsed<F> {
  if (argv.includes('--help') || argv.includes('-h')) return { flags: withDefaults(spec, {}), positionals: [], help: true };
  const options = Object.fromEntries(
    Object.entries(spec.flags).map(([name, f]) => [name, { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(describeParseError(err as Error & { code?: string }), helpText(spec));
  }
  const { min, max } = spec.positionals ?? { min: 0, max: 0 };
  const pos = parsed.positionals;
  if (pos.length > max) throw new UsageError(`unexpected argument "${pos[max]}"`, helpText(spec));
  if (pos.length < min) throw new UsageError(`missing ${spec.args ?? 'arguments'}`, helpText(spec));
  return { flags: withDefaults(spec, parsed.values), positionals: pos, help: false };
}

/** A boolean flag not given is false, a repeatable one []. */
function withDefaults<F extends Record<string, FlagSpec>>(spec: CommandSpec<F>, values: Record<string, unknown>): Flags<F> {
  const flags = { ...values };
  for (const [name, f] of Object.entries(spec.flags)) {
    if (f.type === 'boolean') flags[name] = flags[name] === true;
    else if (f.multiple) flags[name] ??= [];
  }
  return flags as Flags<F>;
}

/** parseArgs explains in a paragraph; the user needs the flag's name and what is wrong with it. */
function describeParseError(err: Error & { code?: string }): string {
  const flag = /'(-[^']*)'/.exec(err.message)?.[1] ?? '';
  const name = flag.split(/[ ,]/)[0];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${name}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return err.message.includes('argument missing') ? `${name} needs a value` : `${name} takes no value`;
    default:
      return err.message;
  }
}

export interface Subcommand {
  spec: CommandSpec;
  run(argv: string[]): Promise<number>;
}

/**
 * `program a b --flag` → the command at path 'a b' gets `--flag`. A group without a known subcommand
 * (`ops dlq frob`) is an error naming what was typed and what exists.
 */
export function route(program: string, commands: Record<string, Subcommand>, argv: string[]): { command?: Subcommand; rest: string[]; help?: string } {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  for (let n = Math.min(words.length, 2); n > 0; n--) {
    const command = commands[words.slice(0, n).join(' ')];
    if (command) return { command, rest: argv.slice(n) };
  }
  const known = Object.keys(commands);
  const group = words[0] && known.filter((k) => k.startsWith(`${words[0]} `));
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (group && group.length) {
    const list = overview(program, Object.fromEntries(group.map((k) => [k, commands[k]!])));
    if (wantsHelp && words.length === 1) return { rest: [], help: list };
    throw new UsageError(words[1] ? `unknown command "${words.slice(0, 2).join(' ')}"` : `"${words[0]}" needs a subcommand`, list);
  }
  const all = overview(program, commands);
  if (words.length === 0) {
    if (wantsHelp) return { rest: [], help: all };
    if (argv.length) throw new UsageError(`unknown flag ${argv[0]!.split('=')[0]}`, all);
    throw new UsageError('no command given', all);
  }
  throw new UsageError(`unknown command "${words[0]}"`, all);
}

export function overview(program: string, commands: Record<string, Subcommand>): string {
  const rows = Object.entries(commands).map(([name, c]) => [`${name}${c.spec.args ? ` ${c.spec.args}` : ''}`, c.spec.summary]);
  const w = Math.max(...rows.map(([l]) => l!.length));
  return [`usage: ${program} <command> [flags]   (<command> --help for its flags)`, ...rows.map(([l, s]) => `  ${l!.padEnd(w)}  ${s}`)].join('\n');
}
