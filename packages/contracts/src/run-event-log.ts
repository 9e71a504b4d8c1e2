import { RunEvent } from './agent.js';

/**
 * One entry of a run's event log (see `runEventLogKey`) holds the events one write carried: field
 * `b` is a JSON array of consecutive RunEvents in seq order. A model that streams fast produces
 * dozens of tokens between two turns of the event loop; one entry for all of them instead of one
 * XADD each is most of the log's Redis cost. Field `e` (one RunEvent) is what writers before
 * batching used; readers still accept it so a rolling deploy loses nothing.
 */
export const RUN_LOG_BATCH_FIELD = 'b';
const RUN_LOG_SINGLE_FIELD = 'e';

export function encodeRunLogEntry(events: readonly RunEvent[]): [field: string, value: string] {
  return [RUN_LOG_BATCH_FIELD, JSON.stringify(events)];
}

/** The valid events of one stream entry (its field list as Redis returns it), in order; [] for anything else. */
export function decodeRunLogEntry(fields: readonly string[]): RunEvent[] {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const field = fields[i];
    if (field !== RUN_LOG_BATCH_FIELD && field !== RUN_LOG_SINGLE_FIELD) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(fields[i + 1] ?? '');
    } catch {
      return [];
    }
    const items = field === RUN_LOG_BATCH_FIELD && Array.isArray(raw) ? raw : [raw];
    const events: RunEvent[] = [];
    for (const item of items) {
      const parsed = RunEvent.safeParse(item);
      if (parsed.success) events.push(parsed.data);
    }
    return events;
  }
  return [];
}
