/**
 * The one config-problem printer. Every service reports a bad configuration the same way, before
 * anything connects anywhere: a header naming the service and the count, then one problem per line,
 * all of them in one run (an operator fixes the whole list at once, not one variable per restart).
 */

/** `query: invalid configuration (2 problems):` followed by one indented line per problem. */
export function formatConfigProblems(service: string, problems: readonly string[]): string {
  const n = problems.length;
  return `${service}: invalid configuration (${n} problem${n === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}\n`).join('')}`;
}

/** Prints the problems to stderr and exits 1 (for a service that judges more rules after loadEnv). */
export function exitWithConfigProblems(service: string, problems: readonly string[]): never {
  process.stderr.write(formatConfigProblems(service, problems));
  process.exit(1);
}
