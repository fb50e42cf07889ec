// Which peers are trusted proxies: only their X-Request-Id, X-Forwarded-For and Forwarded
// headers are believed; everybody else's copies are dropped (docs/security.md class 2).

import { BlockList, isIP } from 'node:net';

export interface TrustedProxies {
  /** True when `address` (the TCP peer) is a configured trusted proxy. */
  isTrusted(address: string): boolean;
}

/** Node reports IPv4 peers on dual-stack sockets as `::ffff:a.b.c.d`. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function createTrustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bits), family);
  }
  const empty = entries.length === 0;
  return {
    isTrusted(address: string): boolean {
      if (empty || !address) return false;
      const a = normalizeAddress(address);
      return list.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/**
 * The client address as trusted: the peer itself, or, when the peer is a trusted proxy, the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy.
 */
export function clientAddress(peer: string, xff: readonly string[] | undefined, trusted: TrustedProxies): string {
  const p = normalizeAddress(peer);
  if (!xff || xff.length === 0 || !trusted.isTrusted(p)) return p;
  const hops = xff
    .join(',')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i] as string);
    if (isIP(hop) === 0) return p; // garbage from the client side: fall back to the proxy itself
    if (!trusted.isTrusted(hop)) return hop;
  }
  return p;
}
