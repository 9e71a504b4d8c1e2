/**
 * How common each lexeme is among all chunks, from the planner's statistics on the tsvector column
 * (ANALYZE keeps the ~1,000 most common lexemes with their frequencies). Read at most once a minute:
 * pg_stats is a view over catalogs, too slow to consult on every search.
 */
import type { Pool } from 'pg';

export interface LexemeStats {
  /** Lexemes found in more than `share` of the chunks. */
  commonLexemes(share: number): Promise<string[]>;
}

export function createLexemeStats(pool: Pool, refreshMs = 60_000): LexemeStats {
  let loadedAt = -Infinity;
  let freqs: Array<[string, number]> = [];
  let loading: Promise<void> | null = null;
  const load = async () => {
    const res = await pool.query<{ elems: string[] | null; freqs: number[] | null }>(
      `select most_common_elems::text::text[] as elems, most_common_elem_freqs as freqs
       from pg_stats where schemaname = current_schema() and tablename = 'knowledge_chunks' and attname = 'tsv'`,
    );
    const row = res.rows[0];
    const elems = row?.elems ?? [];
    freqs = elems.map((e, i) => [e, row?.freqs?.[i] ?? 0]);
    loadedAt = performance.now();
  };
  return {
    async commonLexemes(share) {
      if (performance.now() - loadedAt > refreshMs) {
        loading ??= load().finally(() => (loading = null));
        // Only the very first search waits; later refreshes happen behind the cached list.
        if (freqs.length === 0 && loadedAt === -Infinity) await loading;
      }
      return freqs.filter(([, f]) => f > share).map(([e]) => e);
    },
  };
}
