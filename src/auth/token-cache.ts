// A bounded LRU of verified bearer tokens. Keyed by sha-256 of the token and of every validation
// input (SECURITY.md class 3: a key that omits what was validated lets one check stand in for another).

import { createHash } from 'node:crypto';

interface Entry<V> {
  readonly value: V;
  /** Epoch ms after which the entry is never served: min(token exp, cached-at + max TTL). */
  readonly until: number;
}

export class VerifiedTokenCache<V> {
  readonly #entries = new Map<string, Entry<V>>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxTtlMs: number,
  ) {}

  static key(token: string, validationFingerprint: string): string {
    return createHash('sha256').update(validationFingerprint).update('\0').update(token).digest('hex');
  }

  get(key: string, nowMs: number): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    this.#entries.delete(key);
    if (nowMs >= e.until) return undefined;
    this.#entries.set(key, e); // most recently used goes last
    return e.value;
  }

  /** `expSeconds` is the token's `exp` (RFC 7519 4.1.4): the entry dies with the token at the latest. */
  set(key: string, value: V, expSeconds: number, nowMs: number): void {
    if (this.maxEntries === 0 || this.maxTtlMs === 0) return;
    const until = Math.min(expSeconds * 1000, nowMs + this.maxTtlMs);
    if (until <= nowMs) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, until });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
