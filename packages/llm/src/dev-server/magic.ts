/** Instructions a test writes into the user message to steer the dev model (documented in the README). */
export interface Magic {
  /** Answer with this HTTP status; `times` limits it to the first N identical requests. */
  fail?: { status: number; times: number | null };
  /** Never answer (the request stays open until the client gives up). */
  hang?: boolean;
  /** Stream a few tokens, then go silent with the connection open. */
  stall?: boolean;
  /** Send a chunk that is not JSON. */
  malformed?: boolean;
  /** Send part of the reply, then close the connection abruptly (a provider or proxy dying mid-reply). */
  drop?: boolean;
  /** Send part of the stream, then an `error` object in a chunk (how a provider reports a failure after the headers). */
  streamError?: boolean;
  /** Delay per token for this request. */
  slowMs?: number;
  /** Reply with exactly N tokens. */
  tokens?: number;
  /** Call this tool (when offered), whatever the words say. */
  tool?: string;
  /** Call every matching tool in one reply instead of one per turn. */
  parallel?: boolean;
  /** Answer with the request's system prompt (so a test sees which agent's prompt a run used). */
  system?: boolean;
}

const MAGIC = /\[\[([a-z_]+)(?::([^\]]*))?\]\]/gi;

export function parseMagic(text: string): { magic: Magic; text: string } {
  const magic: Magic = {};
  for (const match of text.matchAll(MAGIC)) {
    const name = (match[1] ?? '').toLowerCase();
    const arg = match[2] ?? '';
    const num = Number.parseInt(arg, 10);
    switch (name) {
      case 'fail': {
        const [status, times] = arg.split(':').map((s) => Number.parseInt(s, 10));
        if (status && status >= 400 && status <= 599) magic.fail = { status, times: times && times > 0 ? times : null };
        break;
      }
      case 'hang':
        magic.hang = true;
        break;
      case 'stall':
        magic.stall = true;
        break;
      case 'malformed':
        magic.malformed = true;
        break;
      case 'drop':
        magic.drop = true;
        break;
      case 'stream_error':
        magic.streamError = true;
        break;
      case 'slow':
        if (num >= 0) magic.slowMs = Math.min(num, 60_000);
        break;
      case 'tokens':
        if (num > 0) magic.tokens = Math.min(num, 100_000);
        break;
      case 'tool':
        if (arg) magic.tool = arg;
        break;
      case 'parallel':
        magic.parallel = true;
        break;
      case 'system':
        magic.system = true;
        break;
    }
  }
  return { magic, text: text.replace(MAGIC, '').replace(/\s+/g, ' ').trim() };
}
