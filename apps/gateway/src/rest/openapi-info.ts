/** The document's `info.description`: what a schema cannot say (auth, errors, request ids, idempotency, paging, streaming, the WebSocket). */
export const API_DESCRIPTION = `REST API of the Parley gateway. The README's "API" section has curl examples of all of this.

**Authentication**: \`Authorization: Bearer <JWT>\` on every /api/v1 route. The token's tenant and roles decide
what a caller sees; another tenant's or another user's ids answer 404, as unknown ids do. In dev mode,
\`POST /api/v1/dev/token\` mints a token for a caller on this machine.

**Errors**: every error has one shape, \`{"error": {"code", "message", "retryable", "requestId", "details"?}}\`
(components.schemas.Error), Fastify's own refusals (bad JSON, unknown routes, too large bodies) included.

**Request ids**: every response carries \`x-request-id\`; send your own (up to 64 characters of \`[A-Za-z0-9._:-]\`)
to find the request in the logs of every service it reached.

**Idempotency**: \`Idempotency-Key\` on \`POST /api/v1/runs\` and \`POST /api/v1/runs/wait\`: the same key and body
answer the same run; the same key with another body is a 422 \`idempotency_key_reused\`. Knowledge uploads alike:
the same key and body answer the first upload's document, another body is a 422.

**Pagination**: lists answer \`nextCursor\`; pass it back as \`?cursor=\` with the same filters until it is null.

**Streaming**: \`GET /api/v1/runs/{id}/events\` is Server-Sent Events (states PENDING, PROGRESS, SUCCESS, FAILURE,
each event named and unnamed, so \`EventSource.onmessage\` works); \`Last-Event-ID\` resumes after an event.

**WebSocket chat** (not an OpenAPI operation): \`GET /ws/chat?token=<JWT>\` upgrades to a WebSocket speaking JSON
frames. Client → server: \`chat.message {id, text, conversationId?, agent?}\`, \`chat.cancel {runId}\`,
\`history.get {conversationId, before?, limit?}\`, \`conversation.new\`, \`ping\`. Server → client: \`welcome\`,
\`history\`, \`chat.accepted\`, \`agent.token\`, \`agent.step\`, \`agent.message\`, \`agent.error\`, \`error\`, \`pong\`,
\`system\`. Close codes: 4401 bad or expired token, 4403 forbidden, 4408 idle, 4429 too many connections, 1001
shutdown. The schemas are packages/contracts/src/ws.ts; @parley/client is a typed client for it.`;
