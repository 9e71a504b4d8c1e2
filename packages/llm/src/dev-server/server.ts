import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describeZodError } from '@parley/contracts';
import type { z } from 'zod';
import { countTokens } from '../tokens.js';
import { completionBody, completionId, streamChunks, writeStream } from './completions.js';
import { DevModelControl } from './control.js';
import { DEFAULT_EMBEDDING_DIMS, embedText } from './embeddings.js';
import { planReply } from './rules.js';
import { ChatCompletionRequest, ControlRequest, EmbeddingsRequest, messageText } from './schemas.js';

export interface DevModelServerOptions {
  /** 0 picks a free port (what tests want). */
  port?: number;
  host?: string;
  tokenDelayMs?: number;
}

export interface DevModelServer {
  /** Base URL for the openai SDK, ending in /v1. */
  url: string;
  port: number;
  control: DevModelControl;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Enough of the last user message to tell a benchmark's turns apart in GET /_requests. */
const LAST_USER_CHARS = 200;

/** How a model request ended, for /_stats and /_requests. */
interface Outcome {
  stream: boolean;
  status: number;
  firstTokenAt?: number;
  lastUser?: string;
}
const MODELS = ['parley-dev', 'parley-dev-embed'];

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body is larger than 10 MB');
    chunks.push(buf);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'We could not parse the JSON body of your request.');
  }
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (!result.success) throw new HttpError(400, `Invalid request: ${describeZodError(result.error)}`);
  return result.data;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

// OpenAI's error body shape, so the SDK surfaces `error.message` as the provider's message.
function sendError(res: ServerResponse, err: HttpError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, { error: { message: err.message, type: err.type, param: null, code: err.code } }, headers);
}

function scriptedFailure(status: number, message: string | undefined): HttpError {
  if (status === 429)
    return new HttpError(
      429,
      message ?? 'Rate limit reached for parley-dev (scripted by the dev model server). Please try again later.',
      'requests',
      'rate_limit_exceeded',
    );
  if (status >= 500) return new HttpError(status, message ?? `The dev model server failed on purpose with ${status} (scripted).`, 'server_error');
  return new HttpError(status, message ?? `The dev model server refused the request with ${status} (scripted).`);
}

export function createDevModelServer(control: DevModelControl): Server {
  async function chatCompletions(req: IncomingMessage, res: ServerResponse, id: string): Promise<Outcome> {
    const request = parse(ChatCompletionRequest, await readJson(req));
    const stream = request.stream === true;
    const user = request.messages.findLast((m) => m.role === 'user');
    const lastUser = user ? { lastUser: messageText(user).slice(0, LAST_USER_CHARS) } : {};
    control.count(stream ? 'stream' : 'chat');
    const plan = planReply(request);
    const queued = control.takeQueuedFailure();
    const magicFail = plan.magic.fail;
    const key = magicFail?.times ? JSON.stringify(request.messages.map(messageText)) : '';
    if (queued || (magicFail && (magicFail.times === null || control.seenBefore(key) < magicFail.times))) {
      const failure = queued ?? { status: magicFail?.status ?? 500, message: undefined };
      const headers: Record<string, string> = control.retryAfterMs === null ? {} : { 'retry-after-ms': String(control.retryAfterMs) };
      sendError(res, scriptedFailure(failure.status, failure.message), headers);
      return { stream, status: failure.status };
    }
    if (plan.magic.hang || control.hang) {
      await new Promise<void>((resolve) => res.once('close', resolve));
      return { stream, status: 499 };
    }
    if (!stream) {
      if (plan.magic.drop) {
        // Headers promise a longer body than ever comes: the client's read fails mid-body.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
        res.write('{"id":"chatcmpl-dropped","object":"chat.completion","choices":[{"index":0,');
        setImmediate(() => res.destroy());
        return { stream, status: 200 };
      }
      if (plan.magic.malformed) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"content":"tru');
        return { stream, status: 200 };
      }
      const delayMs = plan.magic.slowMs ?? control.tokenDelayMs;
      const script = plan.script;
      // A non-streamed reply takes as long as its tokens would have, so timing tests see the same model.
      if (delayMs > 0 && script.kind === 'text') await new Promise((r) => setTimeout(r, delayMs * Math.min(countTokens(script.text), 200)));
      sendJson(res, 200, completionBody(id, request, plan));
      return { stream, status: 200, ...lastUser };
    }
    const firstTokenAt = await writeStream(res, streamChunks(id, request, plan), {
      delayMs: plan.magic.slowMs ?? control.tokenDelayMs,
      malformed: plan.magic.malformed === true,
      stall: plan.magic.stall === true,
      drop: plan.magic.drop === true,
      streamError: plan.magic.streamError === true,
    });
    return { stream, status: 200, ...lastUser, ...(firstTokenAt === undefined ? {} : { firstTokenAt }) };
  }

  async function embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parse(EmbeddingsRequest, await readJson(req));
    control.count('embeddings');
    const queued = control.takeQueuedFailure();
    if (queued) throw scriptedFailure(queued.status, queued.message);
    const inputs = typeof request.input === 'string' ? [request.input] : request.input;
    const dims = request.dimensions ?? DEFAULT_EMBEDDING_DIMS;
    const data = inputs.map((text, index) => {
      const vector = embedText(text, dims);
      const embedding = request.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    const tokens = inputs.reduce((n, t) => n + countTokens(t, request.model), 0);
    sendJson(res, 200, { object: 'list', data, model: request.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = `${req.method ?? 'GET'} ${path.replace(/\/+$/, '')}`;
    const id = completionId();
    // Non-streamed replies carry the model's own time in a header; streamed ones can only report it in /_stats.
    const originalWriteHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, headers?: Record<string, string>) =>
      originalWriteHead(status, { ...headers, 'x-dev-model-time-ms': (performance.now() - started).toFixed(3), 'x-request-id': id })) as typeof res.writeHead;

    const isModelRequest = path.startsWith('/v1/');
    if (isModelRequest) control.started();
    const handle = async (): Promise<Outcome | null> => {
      switch (route) {
        case 'POST /v1/chat/completions':
          return chatCompletions(req, res, id);
        case 'POST /v1/embeddings':
          await embeddings(req, res);
          return { stream: false, status: 200 };
        case 'GET /v1/models':
          control.count('models');
          sendJson(res, 200, { object: 'list', data: MODELS.map((m) => ({ id: m, object: 'model', created: 1_700_000_000, owned_by: 'parley' })) });
          return { stream: false, status: 200 };
        case 'POST /_control':
          control.apply(parse(ControlRequest, await readJson(req)));
          sendJson(res, 200, control.stats());
          return null;
        case 'GET /_stats':
          sendJson(res, 200, control.stats());
          return null;
        case 'GET /_requests':
          sendJson(res, 200, control.requests());
          return null;
        case 'GET /healthz':
          sendJson(res, 200, { ok: true, scripted: true });
          return null;
        default:
          throw new HttpError(404, `Unknown route ${route}: the dev model server serves POST /v1/chat/completions, POST /v1/embeddings and GET /v1/models`);
      }
    };

    handle()
      .then((result) => {
        if (!result || !isModelRequest) return;
        const { firstTokenAt, ...rest } = result;
        control.finished({
          id,
          path,
          ...rest,
          modelTimeMs: performance.now() - started,
          ...(firstTokenAt === undefined ? {} : { firstTokenMs: firstTokenAt - started }),
        });
      })
      .catch((err: unknown) => {
        const httpError =
          err instanceof HttpError ? err : new HttpError(500, `dev model server error: ${err instanceof Error ? err.message : String(err)}`, 'server_error');
        if (!res.headersSent) sendError(res, httpError);
        else res.destroy();
        if (isModelRequest) control.finished({ id, path, status: httpError.status, stream: false, modelTimeMs: performance.now() - started });
      });
  });
  // Counted so tests can see that a client keeps its connections alive instead of dialling per call.
  server.on('connection', () => control.connected());
  return server;
}

/** Starts a dev model server (tests of any package use this; `npm run dev-model` runs it alone). */
export async function startDevModelServer(options: DevModelServerOptions = {}): Promise<DevModelServer> {
  const control = new DevModelControl(options.tokenDelayMs ?? 0);
  const server = createDevModelServer(control);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/v1`,
    port,
    control,
    close: () =>
      new Promise<void>((resolve) => {
        // Hung and stalled requests would keep close() waiting forever.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
