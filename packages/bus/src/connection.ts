import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** One Redis node (a URL or options), or a Redis Cluster reached through its seed nodes. */
export type RedisTarget = string | RedisOptions | ClusterTarget;

export interface ClusterTarget {
  cluster: Array<{ host: string; port: number }>;
  /** Options for every node connection (password, TLS…). */
  nodeOptions?: RedisOptions;
}

/** What the bus and the stores talk to: the same commands either way; only pipelines and blocking reads care. */
export type RedisClient = Redis | Cluster;

export function isClusterTarget(target: RedisTarget): target is ClusterTarget {
  return typeof target === 'object' && 'cluster' in target;
}

/** `host:port,host:port` (REDIS_CLUSTER_NODES) as a cluster target. */
export function clusterTarget(nodes: string, nodeOptions?: RedisOptions): ClusterTarget {
  const cluster = nodes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hp) => {
      const i = hp.lastIndexOf(':');
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
    });
  return nodeOptions ? { cluster, nodeOptions } : { cluster };
}

const retry = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

/** A connection to the target with these per-connection options (on a cluster: for every node connection). */
export function openRedis(target: RedisTarget, options: RedisOptions): RedisClient {
  if (typeof target === 'string') return new Redis(target, options);
  if (!isClusterTarget(target)) return new Redis({ ...target, ...options });
  const { enableAutoPipelining, retryStrategy, lazyConnect, ...perNode } = options;
  const clusterOptions: ClusterOptions = {
    lazyConnect: lazyConnect ?? false,
    redisOptions: { ...target.nodeOptions, ...perNode },
    clusterRetryStrategy: retryStrategy ?? retry,
    // A failover takes a node timeout or two; commands wait for the new map instead of failing.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
  };
  if (enableAutoPipelining !== undefined) clusterOptions.enableAutoPipelining = enableAutoPipelining;
  return new Cluster(target.cluster, clusterOptions);
}

/**
 * Commands connection: each command is written when it is issued (no auto-pipelining), since what
 * batches well already goes in explicit pipelines (the worker's outbox: replies, events, acks). A
 * caller's XADD is mostly alone in its tick, and ioredis's auto-pipeline then costs a pipeline object
 * and a turn of the event loop per command (docs/adr/0008). Retries forever: a call waits for Redis to
 * return instead of failing fast, bounded by its own timeout.
 */
export function commandConnection(target: RedisTarget, name: string): RedisClient {
  return patientConnection(target, name);
}

/**
 * A connection for one blocking reader (XREADGROUP / BLMPOP) of one key; never shared, never
 * auto-pipelined. On a cluster it is a cluster client of its own: the read goes to the node serving
 * the key and follows it through a failover.
 */
export function blockingConnection(target: RedisTarget, name: string): RedisClient {
  return patientConnection(target, name);
}

/** Written command by command, retried forever: what the bus's commands and blocking readers share. */
function patientConnection(target: RedisTarget, name: string): RedisClient {
  return openRedis(target, { enableAutoPipelining: false, maxRetriesPerRequest: null, connectionName: name, retryStrategy: retry });
}

/**
 * A service's own commands connection (stores, locks, rate limits): connected by the caller
 * (`connect()`, so start-up can say Redis is unreachable) and failing a command after one retry
 * instead of queueing it while Redis is away.
 */
export function kitConnection(target: RedisTarget, name: string): RedisClient {
  return openRedis(target, { lazyConnect: true, connectionName: name, maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(100 * times, 2_000) });
}

/** The hash slot of a key; 0 for every key on a single node, where any commands can share a pipeline. */
export function slotGroup(client: RedisClient, key: string): number {
  return client.isCluster ? calculateSlot(key) : 0;
}

/**
 * The node connection that serves `key`: the client itself on a single node, the master's connection
 * inside the cluster client otherwise (for CLIENT ID / CLIENT UNBLOCK, which name one connection).
 * Call after a keyed command has gone through, so the slot map is loaded.
 */
export function nodeServing(client: RedisClient, key: string): Redis {
  if (!(client instanceof Cluster)) return client;
  const owner = client.slots[calculateSlot(key)]?.[0];
  const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) throw new Error(`no connection to the node serving slot ${calculateSlot(key)}`);
  return node;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
