/** Word handling shared by the scripted rules and the embeddings, so both "understand" text alike. */

const STOPWORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from as is are was were be been being am do does did ' +
    'i me my you your he she it its we our they them their this that these those there here what which who whom ' +
    'how when where why can could would should will shall may might must have has had not no yes so than then ' +
    'just about into over under again very too also please tell give show let us some any all more most ' +
    'el la los las un una unos unas y o de del al en con por para es son fue ser que como cuando donde quien ' +
    'mi tu su yo me te se lo le nos por favor esta este esto hay muy mas'
  ).split(' '),
);

/** Lowercased, accent-folded words ("Qué hora es?" → ["que", "hora", "es"]). */
export function foldWords(text: string): string[] {
  return (
    text
      .normalize('NFD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** A deliberately small stemmer: enough that "documents"/"document" and "searching"/"search" meet. */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  // Spanish "-ción" plurals ("devoluciones" → "devolucion"), the one Spanish rule worth having.
  if (word.endsWith('iones')) return word.slice(0, -2);
  for (const suffix of ['ational', 'ing', 'edly', 'ed', 'ies', 'es', 'ly', 's']) {
    if (!word.endsWith(suffix) || word.length - suffix.length < 3) continue;
    const base = word.slice(0, -suffix.length);
    // "searches" → "search" but "times" → "time": -es only goes after a hissing sound.
    if (suffix === 'es' && !/(s|x|z|ch|sh)$/.test(base)) continue;
    if (suffix === 's' && word.endsWith('ss')) return word;
    return suffix === 'ies' ? `${base}y` : base;
  }
  return word;
}

export function isStopword(word: string): boolean {
  return STOPWORDS.has(word);
}

/** Stemmed content words: what a text is about. */
export function contentWords(text: string): string[] {
  return foldWords(text)
    .filter((w) => !isStopword(w))
    .map(stem);
}

/** Word-ish pieces whose concatenation is exactly `text`: the dev model's "tokens" on the wire. */
export function splitDeltas(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** FNV-1a, 32 bit: stable across runs and machines, which is all the dev model needs from a hash. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function hashHex(text: string, length = 24): string {
  let out = '';
  let seed = 0x811c9dc5;
  while (out.length < length) {
    seed = fnv1a(text, seed);
    out += seed.toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}
