/**
 * WS /ws/chat: authenticates, enforces the per-user socket limit, and keeps the sessions of this
 * process — one sweep pings them, drops dead ones and closes idle ones; on shutdown it hands runs over.
 */
import { uuidv7 } from '@parley/bus';
import { ActionError, Id, WsClose } from '@parley/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { refuse } from '../rest/errors.js';
import type { WebSocket } from '@fastify/websocket';
import type { GatewayContext } from '../context.js';
import { tokenOf } from '../auth/token.js';
import { originAllowed } from '../cors.js';
import { AuthError, AuthMessage } from '../auth/verifier.js';
import type { Lease } from './connection-registry.js';
import { userActor } from '../auth/access.js';
import { ChatSession, type ConversationChoice } from './session.js';
import { atExpiry } from './token-expiry.js';

export class ChatHub {
  readonly sessions = new Set<ChatSession>();
  private draining = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly ctx: GatewayContext) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(ctx.config.ws.pingIntervalMs, ctx.config.ws.idleTimeoutMs)));
    this.sweeper.unref();
  }

  register(app: FastifyInstance): void {
    const { origins } = this.ctx.config.cors;
    // Refused before the upgrade: a page of a foreign origin never gets a socket to try a token on.
    const checkOrigin = async (req: FastifyRequest, reply: FastifyReply) => {
      if (originAllowed(req, origins)) return;
      this.ctx.metrics.errors.inc({ code: 'forbidden' });
      return refuse(reply, 403, {
        code: 'forbidden',
        message: 'this origin may not open the chat socket; the gateway allows its own origin and those in CORS_ORIGINS',
        retryable: false,
      });
    };
    app.get('/ws/chat', { websocket: true, preValidation: checkOrigin }, (socket, req) => this.accept(socket, req));
  }

  private accept(socket: WebSocket, req: FastifyRequest): void {
    const { ctx } = this;
    if (this.draining) {
      socket.close(WsClose.shutdown, 'server is shutting down; reconnect');
      return;
    }
    // Frames that arrive while the handshake work below is pending wait for the session.
    const early: Array<[Buffer, boolean]> = [];
    let session: ChatSession | null = null;
    let lease: Lease | null = null;
    let closed = false;
    let cancelExpiry: (() => void) | undefined;
    socket.on('message', (data: Buffer, isBinary: boolean) => (session ? session.onMessage(data, isBinary) : early.push([data, isBinary])));
    socket.on('pong', () => {
      if (session) session.alive = true;
    });
    socket.on('close', () => {
      closed = true;
      cancelExpiry?.();
      if (session) {
        this.sessions.delete(session);
        session.dispose();
        ctx.metrics.connections.dec({ kind: 'ws' });
      }
      if (lease) void ctx.connections.release(lease);
    });

    void (async () => {
      let principal;
      try {
        principal = await ctx.verifier.verify(tokenOf(req));
      } catch (err) {
        ctx.metrics.closes.inc({ code: String(WsClose.badToken) });
        socket.close(WsClose.badToken, err instanceof AuthError ? err.message.slice(0, 120) : AuthMessage.invalid);
        return;
      }
      // A socket is authorized by its token for as long as a new request with that token would be.
      cancelExpiry = atExpiry(principal.validUntil, () => {
        if (session) return session.close(WsClose.badToken, AuthMessage.expired);
        ctx.metrics.closes.inc({ code: String(WsClose.badToken) });
        if (socket.readyState === 1) socket.close(WsClose.badToken, AuthMessage.expired);
      });
      if (closed) return cancelExpiry();
      const socketId = uuidv7();
      lease = await ctx.connections.acquire(principal.tenantId, principal.userId, socketId);
      if (!lease) {
        ctx.metrics.closes.inc({ code: String(WsClose.tooManyConnections) });
        socket.close(WsClose.tooManyConnections, `at most ${ctx.config.ws.maxSocketsPerUser} connections per user`);
        return;
      }
      if (closed) return void ctx.connections.release(lease);
      const query = req.query as Record<string, unknown>;
      const asked = Id.safeParse(query.conversationId);
      const agent = Id.safeParse(query.agent);
      // The socket's conversation is where its chat.message frames write: it must pass the rule for writing.
      // Without one, the session resumes the user's latest open conversation with its agent, or with `new=1` starts one.
      const actor = userActor(principal);
      let choice: ConversationChoice;
      try {
        choice = asked.success ? { grant: await ctx.conversations.check(actor, asked.data, 'write') } : { fresh: query.new === '1' || query.new === 'true' };
      } catch (err) {
        if (!(err instanceof ActionError)) throw err;
        ctx.metrics.closes.inc({ code: String(WsClose.forbidden) });
        // A fixed reason: a close reason is limited to 123 bytes, and the id came from the client.
        socket.close(WsClose.forbidden, err.code === 'not_found' ? 'no such conversation' : 'a channel conversation cannot be written from the web');
        return;
      }
      const s = new ChatSession(socket, principal, choice, agent.success ? agent.data : undefined, ctx, req.id);
      if (closed) return;
      this.sessions.add(s);
      ctx.metrics.connections.inc({ kind: 'ws' });
      await s.start();
      session = s;
      for (const [data, isBinary] of early.splice(0)) s.onMessage(data, isBinary);
    })().catch((err: unknown) => {
      ctx.log.error({ err }, 'websocket setup failed');
      if (socket.readyState === 1) socket.close(1011, 'setup failed; reconnect');
    });
  }

  /** Liveness (protocol ping/pong) and idleness in one pass over this process's sockets. */
  private sweep(): void {
    const now = Date.now();
    const { idleTimeoutMs } = this.ctx.config.ws;
    for (const s of this.sessions) {
      if (!s.alive) {
        this.ctx.metrics.closes.inc({ code: 'dead' });
        s.socket.terminate();
        continue;
      }
      if (now - s.lastActivity > idleTimeoutMs && s.activeRuns().length === 0) {
        s.close(WsClose.idle, 'idle for too long; reconnect when you need me');
        continue;
      }
      s.alive = false;
      s.socket.ping();
    }
  }

  /**
   * Shutdown: refuse new sockets, tell every client which runs to resume elsewhere, then close
   * with 1001. Runs are not cancelled: they keep writing their event logs for another replica.
   */
  async drain(): Promise<void> {
    this.draining = true;
    clearInterval(this.sweeper);
    for (const s of this.sessions) {
      const runs = s.activeRuns();
      s.send({ type: 'system', event: 'shutdown', message: 'this server is restarting; reconnect and resume your runs', runs });
    }
    // One turn of the event loop lets the system frames reach the kernel before the close frames.
    await new Promise((r) => setImmediate(r));
    for (const s of this.sessions) s.close(WsClose.shutdown, 'server shutting down; reconnect');
    const deadline = Date.now() + 2_000;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sessions) s.socket.terminate();
    this.ctx.connections.stop();
  }

  count(): number {
    return this.sessions.size;
  }
}
