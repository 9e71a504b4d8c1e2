// The conventions `npm run ops`, `load` and `chaos` share: flags and subcommands with --help, tables
// (--json, --full), errors with exit codes, dependency probes, progress. See scripts/cli/README.md.
export { helpText, overview, parseCommand, route, type CommandSpec, type FlagSpec, type Flags, type Subcommand } from './args.js';
export { connectRedis, probePostgres } from './deps.js';
export { DependencyDown, UsageError, dependencyDown, report, runCli } from './errors.js';
export { startProgress, writeLine, type Progress } from './progress.js';
export { printTable, renderTable, truncate, type Row, type TableOptions } from './table.js';
