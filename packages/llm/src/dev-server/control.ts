import type { ControlRequest } from './schemas.js';

export interface RequestRecord {
  id: string;
  path: string;
  status: number;
  stream: boolean;
  /** From the request's arrival to its last byte. */
  modelTimeMs: number;
  /** Streamed chats: from the request's arrival to its first token on the wire, the model's own time to first token, which a benchmark subtracts. */
  firstTokenMs?: number;
  /** Chats: the start of the last user message, by which a benchmark pairs its turns with these records. */
  lastUser?: string;
}

/** Requests /_stats shows; GET /_requests returns up to REQUESTS_LIMIT (a benchmark's whole phase). */
const RECENT_LIMIT = 200;
const REQUESTS_LIMIT = 20_000;
const SEEN_LIMIT = 10_000;

/** Mutable state of one dev server: test overrides and the counters behind GET /_stats. */
export class DevModelControl {
  tokenDelayMs: number;
  hang = false;
  retryAfterMs: number | null = null;
  readonly #initialDelayMs: number;
  #failNext: { status: number; count: number; message: string | undefined } | null = null;
  #seen = new Map<string, number>();
  #counts = { total: 0, chat: 0, stream: 0, embeddings: 0, models: 0, failed: 0, inFlight: 0 };
  #byStatus = new Map<number, number>();
  #connections = 0;
  #modelTimeMs = 0;
  #recent: RequestRecord[] = [];

  constructor(tokenDelayMs: number) {
    this.tokenDelayMs = tokenDelayMs;
    this.#initialDelayMs = tokenDelayMs;
  }

  apply(request: ControlRequest): void {
    if (request.reset) this.reset();
    if (request.failNext) this.#failNext = { status: request.failNext.status, count: request.failNext.count, message: request.failNext.message };
    if (request.tokenDelayMs !== undefined) this.tokenDelayMs = request.tokenDelayMs;
    if (request.hang !== undefined) this.hang = request.hang;
    if (request.retryAfterMs !== undefined) this.retryAfterMs = request.retryAfterMs;
  }

  reset(): void {
    this.tokenDelayMs = this.#initialDelayMs;
    this.hang = false;
    this.retryAfterMs = null;
    this.#failNext = null;
    this.#seen.clear();
    this.#counts = { total: 0, chat: 0, stream: 0, embeddings: 0, models: 0, failed: 0, inFlight: 0 };
    this.#byStatus.clear();
    this.#connections = 0;
    this.#modelTimeMs = 0;
    this.#recent = [];
  }

  /** A failure queued by POST /_control, consumed one request at a time. */
  takeQueuedFailure(): { status: number; message: string | undefined } | null {
    const f = this.#failNext;
    if (!f) return null;
    f.count -= 1;
    if (f.count <= 0) this.#failNext = null;
    return { status: f.status, message: f.message };
  }

  /** How many times this exact request was seen before (for `[[fail:429:2]]`: fail twice, then answer). */
  seenBefore(key: string): number {
    const n = this.#seen.get(key) ?? 0;
    if (this.#seen.size >= SEEN_LIMIT) this.#seen.clear();
    this.#seen.set(key, n + 1);
    return n;
  }

  /** A TCP connection accepted (any route); keep-alive clients open few. */
  connected(): void {
    this.#connections += 1;
  }

  /** Every model request, counted on arrival (before its body is even read). */
  started(): void {
    this.#counts.total += 1;
    this.#counts.inFlight += 1;
  }

  /** What kind of request it turned out to be; a streamed chat counts as chat too. */
  count(kind: 'chat' | 'stream' | 'embeddings' | 'models'): void {
    this.#counts[kind] += 1;
    if (kind === 'stream') this.#counts.chat += 1;
  }

  finished(record: RequestRecord): void {
    this.#counts.inFlight -= 1;
    if (record.status >= 400) this.#counts.failed += 1;
    this.#byStatus.set(record.status, (this.#byStatus.get(record.status) ?? 0) + 1);
    this.#modelTimeMs += record.modelTimeMs;
    this.#recent.push(record);
    // Dropped in halves: shifting one record per request off a 20,000-long array costs more than the request.
    if (this.#recent.length > REQUESTS_LIMIT) this.#recent = this.#recent.slice(REQUESTS_LIMIT / 2);
  }

  /** The retained model requests, oldest first (cleared by a reset). */
  requests(): RequestRecord[] {
    return [...this.#recent];
  }

  stats() {
    return {
      requests: { ...this.#counts },
      byStatus: Object.fromEntries(this.#byStatus),
      connections: this.#connections,
      modelTimeMs: Math.round(this.#modelTimeMs * 1000) / 1000,
      tokenDelayMs: this.tokenDelayMs,
      hang: this.hang,
      recent: this.#recent.slice(-RECENT_LIMIT),
    };
  }
}
