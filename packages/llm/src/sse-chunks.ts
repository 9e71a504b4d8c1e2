import { createParser } from 'eventsource-parser';
import { APIError } from 'openai';

/**
 * The JSON chunks of a chat completion stream (`data:` events up to `[DONE]`), read straight off the
 * response body. The SDK's own stream passes each chunk through four nested async generators (bytes, SSE
 * chunks, lines, messages), the largest single cost in agent-execution's profile of a streamed answer;
 * here each read of the body is parsed in one pass by eventsource-parser (the spec's algorithm: CR/LF/CRLF,
 * multi-line data, comments) and what it completed is yielded (README, "Streams"). An `error` object in a
 * chunk, or an `error` event, throws the APIError the SDK would have thrown, so callers map failures as before.
 */
export async function* sseChunks(
  body: ReadableStream<Uint8Array>,
  headers: Headers,
  read: <T>(p: Promise<T>) => Promise<T>,
): AsyncGenerator<unknown, void, undefined> {
  const events: Array<{ event: string | undefined; data: string }> = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await read(reader.read());
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      for (const e of events.splice(0)) {
        // After [DONE] the body is still read to its end, so the keep-alive connection can be reused.
        if (finished) continue;
        if (e.data.startsWith('[DONE]')) {
          finished = true;
          continue;
        }
        const data = JSON.parse(e.data) as unknown;
        // A chunk reports a failure under `error`; an `error` event may also carry it as its whole data.
        const error = isObject(data) && data['error'] ? data['error'] : e.event === 'error' ? data : undefined;
        if (error) throw new APIError(undefined, isObject(error) ? error : { message: String(error) }, undefined, headers);
        yield data;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
