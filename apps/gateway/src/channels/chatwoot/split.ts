/** WhatsApp refuses text messages over 4096 characters; Chatwoot passes them through and fails. */
export const WHATSAPP_MAX_CHARS = 4096;

const SENTENCE_END = /[.!?…。](?:["'”’)\]]*)(?=\s)/g;

/**
 * Cuts a long answer into messages of at most `max` characters, at the last sentence end that
 * fits (then a line break, then a space, and only for a run-on word a hard cut), so each message
 * reads on its own.
 */
export function splitMessage(text: string, max = WHATSAPP_MAX_CHARS): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    const cut = lastSentenceEnd(window, max) ?? lastIndex(window, '\n', max) ?? lastIndex(window, ' ', max) ?? safeHardCut(rest, max);
    parts.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}

function lastSentenceEnd(window: string, max: number): number | null {
  let best: number | null = null;
  for (const m of window.matchAll(SENTENCE_END)) {
    const end = m.index + m[0].length;
    // A boundary in the first fifth would leave a tiny message and a huge remainder to cut anyway.
    if (end <= max && end >= max / 5) best = end;
  }
  return best;
}

function lastIndex(window: string, ch: string, max: number): number | null {
  const i = window.lastIndexOf(ch, max);
  return i >= max / 5 ? i + 1 : null;
}

/** Never between the two halves of a surrogate pair (an emoji would break). */
function safeHardCut(s: string, max: number): number {
  const code = s.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
