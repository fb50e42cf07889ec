// Removes secrets from request bodies and queries before an audit record is written. Pure: returns a
// JSON-safe deep copy (no NUL characters, which Postgres text/jsonb reject) and never mutates its input.

import type { CatalogueOperation } from '../core/catalogue.ts';

export const REDACTED = '[REDACTED]';
const MAX_DEPTH = 64;

/** Key names that hold secrets anywhere in a body: compared lower-cased with `_`/`-` removed. */
const SECRET_NAME = /(password|passwd|passphrase|secret|token|accesskey|privatekey|apikey|credential|sshkey)/;

export function isSecretName(key: string): boolean {
  return SECRET_NAME.test(key.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** Names redacted at any depth for one operation: the leaf of each catalogued secret field (the spec
 *  may nest a field the catalogue lists at top level; over-redaction is the safe mistake), and `key`
 *  on RBD mirroring routes, whose peers carry the remote cephx secret in a plain `key` field. */
function operationSecretNames(op: CatalogueOperation | null): ReadonlySet<string> {
  const names = new Set<string>();
  if (op === null) return names;
  for (const f of op.secretFields) names.add(f.split('.').at(-1) ?? f);
  if (op.template.includes('/mirroring/')) names.add('key');
  return names;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text Postgres can store and give back unchanged: NUL and lone surrogates (rejected by jsonb,
 *  silently replaced in text) become U+FFFD, so the hash written equals the hash verified. */
export function storableText(s: string): string {
  return s.replace(UNSTORABLE, '\uFFFD');
}

const clean = storableText;

/** Deep-copies to plain JSON, redacting by key name. */
function copy(value: unknown, names: ReadonlySet<string>, depth: number): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return clean(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (depth >= MAX_DEPTH) return '[TOO DEEP]';
  if (Array.isArray(value)) return value.map((v) => copy(v, names, depth + 1));
  if (typeof value === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[clean(k)] = isSecretName(k) || names.has(k) ? (v === null ? null : REDACTED) : copy(v, names, depth + 1);
    }
    return out;
  }
  return null;
}

/** Redacts one dotted path (`a.b.c`, `*` = any key or index; arrays are traversed implicitly). */
function redactPath(node: Json, path: readonly string[]): void {
  if (node === null || typeof node !== 'object') return;
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (Array.isArray(node)) {
    const idx = /^\d+$/.test(head) ? [Number(head)] : null;
    if (idx !== null) {
      for (const i of idx) if (i < node.length) step(node, i, rest);
      return;
    }
    // A non-index segment on an array applies to every element (`peers.key` covers `peers[*].key`).
    for (const el of node) redactPath(el, head === '*' ? rest : path);
    return;
  }
  const keys = head === '*' ? Object.keys(node) : Object.hasOwn(node, head) ? [head] : [];
  for (const k of keys) step(node, k, rest);
}

function step(parent: Json[] | { [k: string]: Json }, key: string | number, rest: readonly string[]): void {
  const p = parent as Record<string | number, Json>;
  if (rest.length === 0) {
    if (p[key] !== null) p[key] = REDACTED;
    return;
  }
  redactPath(p[key] ?? null, rest);
}

export interface Redactor {
  /** The body as it may be stored: secrets replaced by `[REDACTED]`. */
  body(body: unknown, operation: CatalogueOperation | null): unknown;
  /** Query parameters with secret-named parameters' values replaced. */
  query(query: Readonly<Record<string, readonly string[]>>): Record<string, string[]>;
}

export function createRedactor(opts: { readonly extraPaths?: readonly string[] } = {}): Redactor {
  const extra = (opts.extraPaths ?? []).map((p) => p.split('.'));
  return {
    body(body, operation) {
      const out = copy(body, operationSecretNames(operation), 0);
      for (const path of operation?.secretFields ?? []) redactPath(out, path.split('.'));
      for (const path of extra) redactPath(out, path);
      return out;
    },
    query(query) {
      const out: Record<string, string[]> = {};
      for (const [k, vs] of Object.entries(query)) out[clean(k)] = isSecretName(k) ? vs.map(() => REDACTED) : vs.map(clean);
      return out;
    },
  };
}
