import type { RedisClient } from './connection.js';

/** [id, [field, value, …]] as XREADGROUP / XAUTOCLAIM return it; fields are null for a deleted entry. */
export type RawEntry = [string, string[] | null];

export function actionField(fields: string[] | null): string | undefined {
  if (!fields) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'a') return fields[i + 1];
  return undefined;
}

/** Delivery counts of pending entries, as Redis counts them (already including the current delivery). */
export async function deliveryCounts(cmd: RedisClient, stream: string, group: string, ids: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const rows = await Promise.all(ids.map((id) => cmd.xpending(stream, group, id, id, 1) as Promise<Array<[string, string, number, number]>>));
  for (const row of rows) {
    const first = row[0];
    if (first) counts.set(first[0], Number(first[3]));
  }
  return counts;
}

export function isNoGroup(err: unknown): boolean {
  return err instanceof Error && err.message.includes('NOGROUP');
}

/** Creates the consumer group from the start of the stream, so actions sent before the first worker are kept. */
export async function ensureGroup(cmd: RedisClient, stream: string, group: string): Promise<void> {
  try {
    await cmd.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
  }
}
