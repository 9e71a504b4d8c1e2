/** Small wording helpers shared by the pages: counts with the right noun, ids a person can tell apart. */

/** `1 message`, `2 messages`, `0 messages`; `irregular` for nouns whose plural is not noun + s. */
export function plural(n: number, noun: string, irregular?: string): string {
  return `${n} ${n === 1 ? noun : (irregular ?? `${noun}s`)}`;
}

/**
 * A UUIDv7's first 12 hex digits are its millisecond timestamp, so runs started close together share
 * their prefix; the last group (48 random bits) tells them apart. Other ids are shown by their tail too.
 */
export function shortId(id: string): string {
  const hex = id.replace(/-/g, '');
  return hex.length > 8 ? `…${hex.slice(-8)}` : id;
}

/** A heading path ("Title › Section › Sub") without its leading segments that only repeat the document's title. */
export function sectionPath(title: string, heading: string | undefined): string {
  if (!heading) return '';
  const parts = heading.split('›').map((p) => p.trim());
  const same = (p: string) => p.toLowerCase() === title.trim().toLowerCase();
  while (parts.length > 0 && same(parts[0] ?? '')) parts.shift();
  return parts.join(' › ');
}

/** Date and time without seconds, in the reader's locale: what a table column needs. */
export function shortDate(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}
