// The hash chain: canonical JSON (sorted keys, no whitespace, ISO-8601 dates) and
// hash = sha256_hex(prev_hash || "\n" || canonical(event)). Pure, so write and verify agree by construction.

import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/** Deterministic JSON: object keys sorted by code unit, Dates as ISO strings, undefined dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    // Hot path (every event of every batch): plain loops, no intermediate entry arrays.
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort(); // default sort: UTF-16 code unit order
    let out = '{';
    for (const k of keys) {
      const v = obj[k];
      if (v === undefined) continue;
      if (out.length > 1) out += ',';
      out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
    }
    return `${out}}`;
  }
  return 'null';
}

export function chainHash(prevHash: string, event: unknown): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(event)).digest('hex');
}
