// The values a policy condition reads from one request, computed lazily and at most once per
// decision: decoded path parameters (and the parts of image specs), query values, the inspected JSON
// body and the set of every pool the request names.

import type { CatalogueOperation, PolicyInput } from '../pipeline/types.ts';
import type { FieldRef } from './model.ts';
import { parseStrictJson } from './strict-json.ts';

/** What a field resolves to: values, absent, or "cannot be evaluated" (with why). */
export type FieldValue =
  | { readonly kind: 'values'; readonly values: readonly unknown[] }
  | { readonly kind: 'missing'; readonly why: string }
  | { readonly kind: 'error'; readonly why: string };

/** Path parameters that name a pool directly. */
export const POOL_PATH_PARAMS: ReadonlySet<string> = new Set(['pool_name']);
/** Query parameters that name a pool (e.g. `GET /api/block/image?pool_name=`). */
export const POOL_QUERY_PARAMS: ReadonlySet<string> = new Set(['pool_name']);
/** Path parameters of the form `pool/[namespace/]image` (one segment, `%2F`-encoded in the raw path). */
export const SPEC_PARAMS: ReadonlySet<string> = new Set(['image_spec', 'image_id_spec']);

type Spec = { pool: string; namespace: string | null; image: string };

export function parseImageSpec(v: string): Spec | null {
  const parts = v.split('/');
  if (parts.some((p) => p.length === 0)) return null;
  if (parts.length === 2) return { pool: parts[0] as string, namespace: null, image: parts[1] as string };
  if (parts.length === 3) return { pool: parts[0] as string, namespace: parts[1] as string, image: parts[2] as string };
  return null;
}

/**
 * How Ceph builds a handler's arguments (dashboard `_base_controller.py` `_request_wrapper` and
 * `tools.get_request_body_params`, verified on 16.2.15): path parameters, then query parameters (a
 * query `pool_name` overrides the path's), then, for POST/PUT/PATCH whose Content-Type is exactly
 * `application/json` or `text/javascript`, every top-level key of the JSON body (overriding both).
 * Any other Content-Type, `application/json; charset=utf-8` included, makes Ceph ignore the JSON body.
 * The view decides on the same merged arguments, and refuses to guess when sources disagree.
 */
const CEPH_JSON_TYPES: ReadonlySet<string> = new Set(['application/json', 'text/javascript']);
const CEPH_BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export class RequestView {
  private body: FieldValue | undefined;
  private pools: FieldValue | undefined;

  constructor(
    readonly input: PolicyInput,
    private readonly maxInspectBytes: number,
  ) {}

  get(ref: FieldRef): FieldValue {
    switch (ref.kind) {
      case 'path': {
        const o = this.overridden(ref.param, true);
        return o ?? this.path(ref.param, ref.part);
      }
      case 'query': {
        const o = this.overridden(ref.name, false);
        if (o !== null) return o;
        const v = this.input.query[ref.name];
        return v === undefined || v.length === 0 ? { kind: 'missing', why: `query parameter ${ref.name} absent` } : { kind: 'values', values: v };
      }
      case 'body': {
        const b = this.bodyValue();
        if (b.kind !== 'values') return b;
        const top = ref.path[0] as string;
        // Ceph takes a top-level argument missing from the body from the query string or the path.
        if (!hasKey(b.values[0], top) && (this.input.query[top] !== undefined || this.input.route.params[top] !== undefined)) {
          return { kind: 'error', why: `${top} is given outside the body` };
        }
        return lookup(b.values[0], ref.path, 'body');
      }
      case 'claims':
        return lookup(this.input.principal.claims, ref.path, 'claims');
      case 'pools':
        this.pools ??= this.poolSet();
        return this.pools;
      case 'time': {
        const d = this.input.now;
        const v = ref.part === 'hour' ? d.getUTCHours() : ref.part === 'weekday' ? WEEKDAYS[d.getUTCDay()] : ref.part === 'date' ? d.toISOString().slice(0, 10) : Math.floor(d.getTime() / 1000);
        return { kind: 'values', values: [v] };
      }
    }
  }

  /** The body as one parsed JSON value; `missing` when there is no body at all. */
  bodyValue(): FieldValue {
    this.body ??= this.inspectBody();
    return this.body;
  }

  private inspectBody(): FieldValue {
    const { body, contentType } = this.input;
    if (body === null || body.length === 0) return { kind: 'missing', why: 'request has no body' };
    // Ceph never reads a DELETE body: deciding on it would decide on bytes Ceph does not act on.
    if (!CEPH_BODY_METHODS.has(this.input.method)) return { kind: 'error', why: `Ceph ignores the body of a ${this.input.method}` };
    if (body.length > this.maxInspectBytes) return { kind: 'error', why: `body over the inspection limit (${this.maxInspectBytes} bytes)` };
    // Ceph (cherrypy) reads form-encoded bodies as handler arguments too, and ignores a JSON body whose
    // Content-Type is not exactly one it parses: either way the body Ceph acts on is not this JSON.
    if (contentType === null || !CEPH_JSON_TYPES.has(contentType.trim())) return { kind: 'error', why: 'body content type is not exactly application/json' };
    const r = parseStrictJson(body);
    return r.ok ? { kind: 'values', values: [r.value] } : { kind: 'error', why: r.reason };
  }

  /**
   * Null when Ceph's argument `name` comes from where the policy looks (the path, or the query when
   * `fromPath` is false); otherwise an error: a later source (query over path, body over both) may
   * replace it, so the decision cannot be made on it.
   */
  private overridden(name: string, fromPath: boolean): FieldValue | null {
    if (fromPath && this.input.query[name] !== undefined) return { kind: 'error', why: `${name} is also given in the query string` };
    const b = this.bodyArgs();
    if (b === null) return null;
    if (b.kind !== 'values') return b.kind === 'error' ? b : null;
    return hasKey(b.values[0], name) ? { kind: 'error', why: `${name} is also given in the body` } : null;
  }

  /** The body as Ceph merges it into the arguments: null when Ceph merges nothing (no body, DELETE). */
  private bodyArgs(): FieldValue | null {
    const { body } = this.input;
    if (body === null || body.length === 0 || !CEPH_BODY_METHODS.has(this.input.method)) return null;
    const b = this.bodyValue();
    if (b.kind !== 'values') return b.kind === 'error' ? b : null;
    const v = b.values[0];
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? b : { kind: 'error', why: 'body is not a JSON object' };
  }

  private path(param: string, part: 'pool' | 'namespace' | 'image' | null): FieldValue {
    const v = this.input.route.params[param];
    if (v === undefined) return { kind: 'missing', why: `path parameter ${param} absent` };
    if (part === null) return { kind: 'values', values: [v] };
    const spec = parseImageSpec(v);
    if (spec === null) return { kind: 'error', why: `path parameter ${param} is not pool/[namespace/]image` };
    const p = spec[part];
    return p === null ? { kind: 'missing', why: `${param} has no ${part}` } : { kind: 'values', values: [p] };
  }

  /** Every pool the request names: pool path params, image-spec pools, pool query params, every pool body field. */
  private poolSet(): FieldValue {
    const op: CatalogueOperation | null = this.input.route.operation;
    const out: string[] = [];
    // Every source Ceph may take a pool-naming argument from (path, query, body): all of them, since
    // which one wins depends on Ceph's merge order, and a decision on a superset is never too lax.
    const add = (name: string, v: unknown, where: string): string | null => {
      if (v === null) return null;
      if (typeof v !== 'string') return `${where}.${name} is not a string`;
      if (SPEC_PARAMS.has(name)) {
        const spec = parseImageSpec(v);
        if (spec === null) return `${where} ${name} is not pool/[namespace/]image`;
        out.push(spec.pool);
      } else out.push(v);
      return null;
    };
    const names = new Set<string>([...POOL_PATH_PARAMS, ...SPEC_PARAMS, ...POOL_QUERY_PARAMS]);
    for (const f of op?.poolFields ?? []) if (!f.includes('.')) names.add(f);
    for (const [name, v] of Object.entries(this.input.route.params)) {
      const bad = names.has(name) ? add(name, v, 'path parameter') : null;
      if (bad !== null) return { kind: 'error', why: bad };
    }
    for (const name of names) {
      for (const v of this.input.query[name] ?? []) {
        const bad = add(name, v, 'query parameter');
        if (bad !== null) return { kind: 'error', why: bad };
      }
    }
    // RGW zone/zonegroup delete take `?pools=` as a list in an undocumented encoding: never guess.
    if ((this.input.query.pools ?? []).some((v) => v !== '')) return { kind: 'error', why: 'query parameter pools cannot be inspected' };
    const merged = op !== null && op.poolFields.length > 0 ? this.bodyValue() : this.bodyArgs();
    if (merged !== null && merged.kind === 'error') return merged;
    if (merged !== null && merged.kind === 'values') {
      const root = merged.values[0];
      const fields = new Set<string>(op?.poolFields ?? []);
      for (const n of names) if (hasKey(root, n)) fields.add(n);
      for (const f of fields) {
        const v = lookup(root, f.split('.'), 'body');
        if (v.kind === 'error') return v;
        if (v.kind === 'missing') continue;
        for (const x of v.values) {
          const bad = add(f, x, 'body');
          if (bad !== null) return { kind: 'error', why: bad };
        }
      }
    }
    return out.length === 0 ? { kind: 'missing', why: 'request names no pool' } : { kind: 'values', values: out };
  }
}

function hasKey(v: unknown, key: string): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, key);
}

/** Dotted lookup; arrays at the end give several values, numeric segments index arrays. */
export function lookup(root: unknown, path: readonly string[], what: string): FieldValue {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === undefined || cur === null) return { kind: 'missing', why: `${what}.${path.join('.')} absent` };
    if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) cur = Object.hasOwn(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
    else return { kind: 'error', why: `${what}.${path.join('.')}: ${seg} is inside a ${Array.isArray(cur) ? 'list' : typeof cur}` };
  }
  if (cur === undefined || (Array.isArray(cur) && cur.length === 0)) return { kind: 'missing', why: `${what}.${path.join('.')} absent` };
  return { kind: 'values', values: Array.isArray(cur) ? cur : [cur] };
}
