import { BlockList, isIP } from 'node:net';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * Whether a socket's remote address is this machine's loopback (127.0.0.0/8, ::1, or 127.x mapped
 * into IPv6). Only the socket's address counts: Forwarded/X-Forwarded-For are set by the caller.
 */
/**
 * Whether a Host header names this machine (localhost, 127.x, [::1]). A page on a rebound DNS name
 * (evil.example resolving to 127.0.0.1) reaches a loopback socket but carries its own Host.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return isLoopback(name.replace(/^\[(.*)\]$/, '$1'));
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return loopback.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 4) return loopback.check(address, 'ipv4');
  if (family === 6) return loopback.check(address, 'ipv6');
  return false;
}
