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

const JSON_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

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
      case 'path':
        return this.path(ref.param, ref.part);
      case 'query': {
        const v = this.input.query[ref.name];
        return v === undefined || v.length === 0 ? { kind: 'missing', why: `query parameter ${ref.name} absent` } : { kind: 'values', values: v };
      }
      case 'body': {
        const b = this.bodyValue();
        return b.kind === 'values' ? lookup(b.values[0], ref.path, 'body') : b;
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
    if (body.length > this.maxInspectBytes) return { kind: 'error', why: `body over the inspection limit (${this.maxInspectBytes} bytes)` };
    // Ceph (cherrypy) reads form-encoded bodies as handler arguments too: a pool named there would
    // escape a JSON-only check, so a non-JSON body cannot be evaluated.
    if (contentType === null || !JSON_TYPE.test(contentType.trim())) return { kind: 'error', why: 'body content type is not JSON' };
    const r = parseStrictJson(body);
    return r.ok ? { kind: 'values', values: [r.value] } : { kind: 'error', why: r.reason };
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
    for (const [name, v] of Object.entries(this.input.route.params)) {
      if (POOL_PATH_PARAMS.has(name)) out.push(v);
      else if (SPEC_PARAMS.has(name)) {
        const spec = parseImageSpec(v);
        if (spec === null) return { kind: 'error', why: `path parameter ${name} is not pool/[namespace/]image` };
        out.push(spec.pool);
      }
    }
    for (const name of POOL_QUERY_PARAMS) for (const v of this.input.query[name] ?? []) out.push(v);
    // RGW zone/zonegroup delete take `?pools=` as a list in an undocumented encoding: never guess.
    if ((this.input.query.pools ?? []).some((v) => v !== '')) return { kind: 'error', why: 'query parameter pools cannot be inspected' };
    if (op !== null && op.poolFields.length > 0) {
      const b = this.bodyValue();
      if (b.kind === 'error') return b;
      if (b.kind === 'values') {
        for (const f of op.poolFields) {
          const v = lookup(b.values[0], f.split('.'), 'body');
          if (v.kind === 'error') return v;
          if (v.kind === 'missing') continue;
          for (const x of v.values) {
            if (x === null) continue;
            if (typeof x !== 'string') return { kind: 'error', why: `body.${f} is not a string` };
            out.push(x);
          }
        }
      }
    }
    return out.length === 0 ? { kind: 'missing', why: 'request names no pool' } : { kind: 'values', values: out };
  }
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
