/**
 * The one guard for every URL the platform calls on a user's behalf (run webhooks, Chatwoot inbox
 * `baseUrl`, any future tool URL). A user-supplied URL must not reach the platform's own network:
 * only http(s), no credentials in the URL, and only public unicast addresses, unless the operator
 * allow-listed the host (OUTBOUND_ALLOW_HOSTS) or the address range (OUTBOUND_ALLOW_CIDRS).
 *
 * The address is checked where the connection is made, not only when the URL is accepted: every
 * request goes through agents whose `lookup` refuses what resolves to a refused address and whose
 * `createConnection` refuses a literal IP (Node skips `lookup` for those). So a DNS answer that
 * changes between check and connect (rebinding) cannot point a request at an internal service, and
 * no redirect is followed (node:http never follows one).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { envList } from './env.js';

export interface OutboundPolicy {
  /** Hosts (`name`, `*.suffix` or an IP literal) reached whatever they resolve to: operator-trusted services. */
  allowHosts: string[];
  /** Address ranges reached even though they are not public, e.g. `10.20.0.0/16`. */
  allowCidrs: string[];
}

/** Spread into a service's env shape; `outboundPolicyOf` turns the values into the policy. */
export const outboundEnvShape = {
  OUTBOUND_ALLOW_HOSTS: envList(),
  OUTBOUND_ALLOW_CIDRS: envList().refine((list) => list.every(isCidr), { message: 'each entry must be a CIDR such as 10.20.0.0/16 or fd00::/8' }),
};

export function outboundPolicyOf(env: { OUTBOUND_ALLOW_HOSTS: string[]; OUTBOUND_ALLOW_CIDRS: string[] }): OutboundPolicy {
  return { allowHosts: env.OUTBOUND_ALLOW_HOSTS.map((h) => h.toLowerCase()), allowCidrs: env.OUTBOUND_ALLOW_CIDRS };
}

/** A request the guard refused: final, asking again cannot change the answer. */
export class OutboundRefused extends Error {
  override readonly name = 'OutboundRefused';
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface OutboundRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Answers longer than this are cut (the callers read small JSON bodies). */
  maxBodyBytes?: number;
}

const SCHEMES = new Set(['http:', 'https:']);

function isCidr(v: string): boolean {
  try {
    ipaddr.parseCIDR(v);
    return true;
  } catch {
    return false;
  }
}

export class OutboundGuard {
  private readonly cidrs: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(private readonly policy: OutboundPolicy) {
    this.cidrs = policy.allowCidrs.map((c) => ipaddr.parseCIDR(c));
    // Kept-alive sockets serve the next request to the same host (a Chatwoot install); an idle one
    // is closed after `timeout`, so hosts called once (webhooks) do not keep sockets around.
    const opts = { keepAlive: true, timeout: 30_000, maxFreeSockets: 32 };
    this.agents = { http: this.guarded(new http.Agent(opts)), https: this.guarded(new https.Agent(opts)) };
  }

  /**
   * Why this address may not be reached (the name of its range), or null. Only public unicast is
   * reachable by default: that leaves out loopback, private, link-local (169.254.169.254, the cloud
   * metadata address), unique-local (fd00:ec2::254), carrier-grade NAT (100.100.100.200),
   * unspecified, multicast, broadcast, reserved, and the IPv6 forms that embed an IPv4 address.
   */
  addressRefusal(address: string): string | null {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      // process(): an IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 it is.
      parsed = ipaddr.process(address);
    } catch {
      return 'not an IP address';
    }
    if (this.cidrs.some(([net, bits]) => net.kind() === parsed.kind() && parsed.match(net, bits))) return null;
    const range = parsed.range();
    return range === 'unicast' ? null : range;
  }

  /** Whether the operator allow-listed this host by name (or literal), so its addresses are not checked. */
  hostAllowed(host: string): boolean {
    const h = bareHost(host);
    return this.policy.allowHosts.some((p) => hostMatches(p, h));
  }

  /**
   * Why this URL is refused without resolving it (scheme, credentials, a literal address), or null.
   * A hostname is only judged by what it resolves to: see `checkResolved` and the agents.
   */
  check(raw: string, schemes: ReadonlySet<string> = SCHEMES): string | null {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'is not a URL';
    }
    if (!schemes.has(url.protocol)) return `must use ${[...schemes].map((s) => s.slice(0, -1)).join(' or ')}, not ${url.protocol.slice(0, -1)}`;
    if (url.username || url.password) return 'cannot carry credentials';
    const host = bareHost(url.hostname);
    if (!host) return 'has no host';
    if (this.hostAllowed(host) || !isIP(host)) return null;
    const range = this.addressRefusal(host);
    return range ? `points at a ${range} address (${host}); an operator can allow it with OUTBOUND_ALLOW_HOSTS or OUTBOUND_ALLOW_CIDRS` : null;
  }

  /**
   * `check`, then the host resolved now: for configuration being saved, so an admin learns at once
   * that a URL cannot work. A name that does not resolve yet passes (the connect-time check still holds).
   */
  async checkResolved(raw: string, schemes?: ReadonlySet<string>): Promise<string | null> {
    const why = this.check(raw, schemes);
    if (why) return why;
    const host = bareHost(new URL(raw).hostname);
    if (this.hostAllowed(host) || isIP(host)) return null;
    // Bounded: a slow resolver must not hold an admin's request; the connect-time check still holds.
    const addresses = await new Promise<LookupAddress[]>((resolve) => {
      const timer = setTimeout(() => resolve([]), 3_000);
      dnsLookup(host, { all: true }, (err, a) => {
        clearTimeout(timer);
        resolve(err ? [] : a);
      });
    });
    for (const a of addresses) {
      const range = this.addressRefusal(a.address);
      // The address itself is not repeated: it would tell a tenant admin how internal names resolve.
      if (range) return `resolves to a ${range} address; an operator can allow it with OUTBOUND_ALLOW_HOSTS or OUTBOUND_ALLOW_CIDRS`;
    }
    return null;
  }

  /** The connect-time check: resolves, keeps only reachable addresses, fails when none is left. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const cb = callback as (err: Error | null, address?: string | LookupAddress[], family?: number) => void;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return cb(err);
      const ok = this.hostAllowed(hostname) ? addresses : addresses.filter((a) => this.addressRefusal(a.address) === null);
      if (ok.length === 0) {
        const first = addresses[0];
        const why = first ? `${this.addressRefusal(first.address)} address ${first.address}` : 'no address';
        return cb(new OutboundRefused(`${hostname} resolves only to addresses this platform does not call (${why})`));
      }
      if (all) return cb(null, ok);
      const pick = ok[0] as LookupAddress;
      cb(null, pick.address, pick.family);
    });
  };

  /** The agent for this protocol: every connection it opens is checked (see the file comment). */
  agent(protocol: 'http:' | 'https:'): http.Agent {
    return protocol === 'https:' ? this.agents.https : this.agents.http;
  }

  /**
   * One request through the guard. Resolves with the answer whatever its status; rejects with
   * OutboundRefused for a refused URL or address, with another error for network failures and timeouts.
   */
  request(raw: string, init: OutboundRequest): Promise<OutboundResponse> {
    const why = this.check(raw);
    if (why) return Promise.reject(new OutboundRefused(`${redact(raw)} ${why}`));
    const url = new URL(raw);
    const mod = url.protocol === 'https:' ? https : http;
    const max = init.maxBodyBytes ?? 1024 * 1024;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method: init.method,
          agent: this.agent(url.protocol as 'http:' | 'https:'),
          timeout: init.timeoutMs,
          headers: init.headers ?? {},
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < max) chunks.push(c);
            size += c.length;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, max).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${url.host} did not answer within ${init.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(init.body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private guarded<A extends http.Agent>(agent: A): A {
    const create = (agent as unknown as { createConnection: CreateConnection }).createConnection.bind(agent);
    const wrapped: CreateConnection = (options, cb) => {
      const host = bareHost(String(options.host ?? options.hostname ?? ''));
      const range = isIP(host) && !this.hostAllowed(host) ? this.addressRefusal(host) : null;
      if (range) {
        cb(new OutboundRefused(`${host} is a ${range} address, which this platform does not call`));
        return undefined;
      }
      return create({ ...options, lookup: this.lookup }, cb);
    };
    (agent as unknown as { createConnection: CreateConnection }).createConnection = wrapped;
    return agent;
  }
}

type CreateConnection = (
  options: { host?: string | null; hostname?: string | null; [k: string]: unknown },
  cb: (err: Error | null, socket?: unknown) => void,
) => unknown;

/** An allow-list entry against a lower-case host: `name` exactly, or `*.suffix` for any name under it. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

function bareHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

/** The URL without its path and query, which may carry tokens. */
function redact(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the URL';
  }
}
