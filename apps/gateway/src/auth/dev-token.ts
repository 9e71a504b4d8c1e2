/**
 * POST /api/v1/dev/token: mints an HS256 token for the web UI and tests. Registered always, so
 * the refusal is explicit (403) rather than a confusing 404, but it only mints in dev mode with
 * AUTH_DEV_TOKENS=true (env.ts refuses that combination in production), and only for a caller on
 * this machine: the token can be an admin's of any tenant, so reaching the port must not be enough
 * even when HTTP_HOST opens it to the network.
 */
import type { FastifyInstance } from 'fastify';
import { refuse } from '../rest/errors.js';
import { doc } from '../rest/openapi.js';
import { SignJWT } from 'jose';
import { z } from 'zod';
import type { GatewayConfig } from '../env.js';
import { isLoopback, isLoopbackHost } from './loopback.js';

const DevTokenReply = z.object({ token: z.string(), userId: z.string(), tenantId: z.string(), roles: z.array(z.string()), expiresIn: z.number().int() });
const DevTokenRequest = z.object({
  userId: z.string().min(1).max(256).default('dev-user'),
  tenantId: z.string().min(1).max(128).default('dev'),
  roles: z.array(z.string().max(64)).max(16).default(['admin']),
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(3600),
});

export function registerDevTokenRoute(app: FastifyInstance, auth: GatewayConfig['auth'], mode: 'dev' | 'production'): void {
  app.post(
    '/api/v1/dev/token',
    {
      schema: doc('auth', 'Mint a development token (dev mode only)', {
        operationId: 'mintDevToken',
        description:
          'Only with PARLEY_MODE=dev and AUTH_DEV_TOKENS=true, and only for a request from this machine to localhost (403 otherwise). Every field is optional: the default is an admin `dev-user` of tenant `dev` for an hour.',
        body: DevTokenRequest,
        bodyExample: { userId: 'alice', tenantId: 'acme', roles: ['operator'], ttlSeconds: 3600 },
        reply: DevTokenReply,
        errors: [403],
      }),
    },
    async (req, reply) => {
      if (mode !== 'dev' || !auth.devTokens || !auth.secret) {
        return refuse(reply, 403, { code: 'forbidden', message: 'dev tokens are disabled; set PARLEY_MODE=dev and AUTH_DEV_TOKENS=true', retryable: false });
      }
      if (!isLoopback(req.raw.socket.remoteAddress) || !isLoopbackHost(req.headers.host)) {
        return refuse(reply, 403, {
          code: 'forbidden',
          message:
            'dev tokens are minted only for requests from this machine to localhost (127.0.0.1 or ::1); from elsewhere, sign in with a token of your identity provider',
          retryable: false,
        });
      }
      const parsed = DevTokenRequest.safeParse(req.body ?? {});
      if (!parsed.success) return refuse(reply, 400, { code: 'invalid_payload', message: parsed.error.issues[0]?.message ?? 'invalid body', retryable: false });
      const { userId, tenantId, roles, ttlSeconds } = parsed.data;
      let jwt = new SignJWT({ [auth.tenantClaim]: tenantId, [auth.rolesClaim]: roles })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`);
      if (auth.issuer) jwt = jwt.setIssuer(auth.issuer);
      if (auth.audience) jwt = jwt.setAudience(auth.audience);
      const token = await jwt.sign(new TextEncoder().encode(auth.secret));
      return { token, userId, tenantId, roles, expiresIn: ttlSeconds };
    },
  );
}
