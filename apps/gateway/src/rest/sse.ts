/**
 * GET /api/v1/runs/:id/events — Server-Sent Events over a run's event log, the same log WS resume
 * reads, or once that expired over the run's record (runs/run-follower.ts), so a finished run streams its
 * final state and ends however old it is. Each event carries the run's accumulated state so a client that joins late (or resumes
 * with Last-Event-ID) still sees every step result: the log is replayed from the start and only
 * events after Last-Event-ID are written.
 */
import type { RunEvent } from '@parley/contracts';
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { callerMeta } from '../auth/guard.js';
import { followRun } from '../runs/run-follower.js';

type State = 'PENDING' | 'PROGRESS' | 'SUCCESS' | 'FAILURE';

interface RunState {
  state: State;
  status: string;
  progress: number | null;
  step_results: Array<{ seq: number; kind: string; name: string; data?: unknown; progress?: number }>;
  final_result: unknown;
}

export function lastEventIdOf(req: FastifyRequest): number {
  const header = req.headers['last-event-id'];
  const q = (req.query as Record<string, unknown>).lastEventId;
  const raw = typeof header === 'string' ? header : typeof q === 'string' ? q : '0';
  const n = Number.parseInt(raw, 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Takes the reply over from Fastify and starts a text/event-stream answer on its raw response. */
export function openEventStream(reply: FastifyReply): FastifyReply['raw'] {
  reply.hijack();
  const res = reply.raw;
  // Headers hooks already set (CORS for a listed origin) are not sent by a hijacked reply on their own.
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  return res;
}

export function streamRunEvents(ctx: GatewayContext, runId: string, req: FastifyRequest, reply: FastifyReply): void {
  const after = lastEventIdOf(req);
  const res = openEventStream(reply);
  ctx.metrics.connections.inc({ kind: 'sse' });
  const state: RunState = { state: 'PENDING', status: 'PENDING', progress: null, step_results: [], final_result: null };
  if (after === 0) writeEvent(res, undefined, 'PENDING', { runId, ...state });
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    ctx.streams.delete(finish);
    clearInterval(heartbeat);
    sub.close();
    ctx.metrics.connections.dec({ kind: 'sse' });
    res.end();
  };
  // From seq 0 so every event carries the accumulated state; only those after Last-Event-ID are written.
  const sub = followRun(ctx, runId, 0, callerMeta(req), (e) => {
    apply(state, e);
    if (e.seq > after) writeEvent(res, e.seq, state.state, { runId, seq: e.seq, ...state, event: e });
    if (e.type === 'run.completed' || e.type === 'run.failed') finish();
  });
  // Proxies close connections that stay silent; a comment line keeps them open.
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  heartbeat.unref();
  req.raw.on('close', finish);
  ctx.streams.add(finish);
}

/**
 * Each event twice, with the same id and data (`type` names the state): named (`event: SUCCESS`), for
 * `addEventListener('SUCCESS', …)` clients, then unnamed, which a plain `EventSource.onmessage` gets
 * (the SSE spec dispatches a named event to its listeners only). A client listens one way or the other;
 * one that does both sees each event twice, and de-duplicates by `seq`.
 */
function writeEvent(res: ServerResponse, id: number | undefined, name: State, data: Record<string, unknown>): void {
  const head = id === undefined ? '' : `id: ${id}\n`;
  const json = JSON.stringify({ type: name, ...data });
  res.write(`${head}event: ${name}\ndata: ${json}\n\n${head}data: ${json}\n\n`);
}

function apply(s: RunState, e: RunEvent): void {
  switch (e.type) {
    case 'run.started':
    case 'run.token':
      s.state = 'PROGRESS';
      s.status = 'RUNNING';
      return;
    case 'run.step': {
      s.state = 'PROGRESS';
      // The run waits for a person's decision on a tool call until its next event.
      s.status = e.kind === 'log' && e.name === 'approval_requested' ? 'PAUSED' : 'RUNNING';
      if (e.progress !== undefined) s.progress = e.progress;
      const step: RunState['step_results'][number] = { seq: e.seq, kind: e.kind, name: e.name };
      if (e.data !== undefined) step.data = e.data;
      if (e.progress !== undefined) step.progress = e.progress;
      s.step_results.push(step);
      return;
    }
    case 'run.completed':
      s.state = 'SUCCESS';
      s.status = 'SUCCEEDED';
      s.progress = 100;
      s.final_result = { text: e.text ?? null, output: e.output ?? null, messageId: e.messageId ?? null, usage: e.usage };
      return;
    case 'run.failed':
      s.state = 'FAILURE';
      s.status = e.status;
      s.final_result = { error: { code: e.code, message: e.message, ...(e.ref ? { ref: e.ref } : {}) } };
  }
}
