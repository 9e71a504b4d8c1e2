/**
 * Log lines naming a Redis Cluster routing error. A command whose keys span slots fails with
 * CROSSSLOT, and one sent to a node that does not serve its slot with MOVED: code that works on
 * one node can hide either behind a retry or a warning. The `cluster` test project fails a file
 * whose processes printed one (tests/cluster-env.ts); processes spawned by spawnTs and gateways
 * built in-process report their output here.
 */
// The third is ioredis refusing a cluster pipeline whose keys span slots before sending it.
const ROUTING_ERROR = /CROSSSLOT|\bMOVED\b|same slots allocation group/;
const seen: string[] = [];

export function watchRedisRouting(text: string): void {
  if (!ROUTING_ERROR.test(text)) return;
  for (const line of text.split('\n')) if (ROUTING_ERROR.test(line)) seen.push(line.slice(0, 500));
}

export function redisRoutingErrors(): readonly string[] {
  return seen;
}
