/**
 * @parley/llm/dev-server — the offline, scripted, OpenAI-compatible dev model server with its control
 * and benchmark routes (/_control, /_stats, /_requests). Dev and tests only: production code imports
 * `@parley/llm`, which does not contain it; a service that falls back to it in dev mode imports this
 * subpath dynamically, so a production process never loads it.
 */
export { startDevModelServer, type DevModelServer, type DevModelServerOptions } from './server.js';
export { DevModelControl } from './control.js';
export { embedText, cosine } from './embeddings.js';
