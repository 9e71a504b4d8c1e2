/** Decoding client frames and turning run events into server frames; no I/O here. */
import { ClientFrame, describeZodError, runAnswerMessageId, type RunEvent, type ServerFrame } from '@parley/contracts';
/** What ws hands a message listener. */
export type RawData = Buffer | ArrayBuffer | Buffer[];

export type Decoded = { ok: true; frame: ClientFrame } | { ok: false; code: string; message: string };

const TYPES: Set<string> = new Set(ClientFrame.options.map((o) => o.shape.type.value));

export function decodeFrame(raw: RawData, isBinary: boolean, limits: { maxFrameBytes: number; maxTextChars: number }): Decoded {
  const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  if (buf.byteLength > limits.maxFrameBytes) {
    return { ok: false, code: 'payload_too_large', message: `frames are limited to ${limits.maxFrameBytes} bytes` };
  }
  if (isBinary) return { ok: false, code: 'bad_frame', message: 'frames are JSON text, not binary' };
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    return { ok: false, code: 'bad_json', message: 'the frame is not valid JSON' };
  }
  const type = typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !TYPES.has(type)) {
    return { ok: false, code: 'unknown_type', message: `unknown frame type; expected one of ${[...TYPES].join(', ')}` };
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) return { ok: false, code: 'invalid_payload', message: describeZodError(parsed.error) };
  if (parsed.data.type === 'chat.message' && parsed.data.text.length > limits.maxTextChars) {
    return { ok: false, code: 'text_too_long', message: `messages are limited to ${limits.maxTextChars} characters` };
  }
  return { ok: true, frame: parsed.data };
}

/** The client-facing view of a run event; `run.started` has none (chat.accepted already said it). */
export function frameOf(e: RunEvent): ServerFrame | null {
  switch (e.type) {
    case 'run.started':
      return null;
    case 'run.token':
      return { type: 'agent.token', runId: e.runId, seq: e.seq, delta: e.delta };
    case 'run.step': {
      const f: ServerFrame = { type: 'agent.step', runId: e.runId, seq: e.seq, kind: e.kind, name: e.name };
      if (e.data !== undefined) f.data = e.data;
      if (e.progress !== undefined) f.progress = e.progress;
      return f;
    }
    case 'run.completed':
      return {
        type: 'agent.message',
        runId: e.runId,
        seq: e.seq,
        messageId: e.messageId ?? runAnswerMessageId(e.runId),
        text: e.text ?? (typeof e.output === 'string' ? e.output : ''),
        usage: e.usage,
      };
    case 'run.failed':
      return {
        type: 'agent.error',
        runId: e.runId,
        seq: e.seq,
        code: e.status === 'CANCELLED' ? 'cancelled' : e.code,
        message: e.message,
        ...(e.ref ? { errorRef: e.ref } : {}),
      };
  }
}

export function isTerminal(e: RunEvent): boolean {
  return e.type === 'run.completed' || e.type === 'run.failed';
}
