import type { FastifyRequest } from 'fastify';

/** `Authorization: Bearer …` first, else `?token=` (browsers cannot set headers on a WebSocket). */
export function tokenOf(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (m?.[1]) return m[1].trim();
  }
  const query = req.query as Record<string, unknown> | undefined;
  const t = query?.token;
  return typeof t === 'string' && t.length > 0 ? t : undefined;
}
