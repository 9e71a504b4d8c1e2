// Rows for people (aligned columns, long cells cut with …) or for machines (--json: the rows as JSON).
export type Cell = string | number | boolean | null | undefined;
export type Row = Record<string, Cell>;

export interface TableOptions {
  json?: boolean;
  /** Whole cells, however long. */
  full?: boolean;
  /** Longest cell before it is cut (default 40). */
  maxCell?: number;
}

const cellText = (v: Cell): string => (v === null || v === undefined ? '-' : String(v).replace(/\s+/g, ' '));

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/** An aligned table with a header line; numbers are right-aligned. Columns are the union of the rows' keys. */
export function renderTable(rows: Row[], opts: TableOptions = {}): string {
  if (rows.length === 0) return '(none)';
  const max = opts.full ? Infinity : (opts.maxCell ?? 40);
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => columns.map((c) => truncate(cellText(r[c]), max)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const numeric = columns.map(
    (c) => rows.some((r) => typeof r[c] === 'number') && rows.every((r) => typeof r[c] === 'number' || r[c] === null || r[c] === undefined),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '─'.repeat(w))), ...cells.map(line)].join('\n');
}

/**
 * Prints `rows` as a table or, with --json, `machine` (default: the rows) as JSON: then the only thing
 * on stdout, so `| jq` works.
 */
export function printTable(rows: Row[], opts: TableOptions & { machine?: unknown } = {}): void {
  process.stdout.write(`${opts.json ? JSON.stringify(opts.machine ?? rows, null, 2) : renderTable(rows, opts)}\n`);
}
