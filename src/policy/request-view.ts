// The values a policy condition reads from one request, computed lazily and at most once per
// decision: decoded path parameters (and the parts of image specs), query values, the inspected JSON
// body and the set of every pool the request names.

import {
  type BodyArguments,
  cephReadsBody,
  cephReadsJsonBody,
  type HandlerArgument,
  handlerArguments,
  lookup,
  namedPools,
  parseImageSpec,
} from '../ceph/arguments.ts';
import type { PolicyInput } from '../core/decision.ts';
import type { FieldRef } from './model.ts';
import { parseStrictJson } from './strict-json.ts';

/** What a field resolves to: values, absent, or "cannot be evaluated" (with why). */
export type FieldValue =
  | { readonly kind: 'values'; readonly values: readonly unknown[] }
  | { readonly kind: 'missing'; readonly why: string }
  | { readonly kind: 'error'; readonly why: string };

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/**
 * The view decides on the arguments Ceph builds (ceph/arguments.ts: path, then query, then the JSON
 * body, each replacing the one before), and refuses to guess when two sources give the same name.
 */
export class RequestView {
  private body: FieldValue | undefined;
  private pools: FieldValue | undefined;
  private args: ReadonlyMap<string, HandlerArgument> | undefined;

  constructor(
    readonly input: PolicyInput,
    private readonly maxInspectBytes: number,
  ) {}

  get(ref: FieldRef): FieldValue {
    switch (ref.kind) {
      case 'path': {
        const replaced = this.replacedBy(ref.param, 'path');
        return replaced ?? this.path(ref.param, ref.part);
      }
      case 'query': {
        const replaced = this.replacedBy(ref.name, 'query');
        if (replaced !== null) return replaced;
        const v = this.input.query[ref.name];
        return v === undefined || v.length === 0 ? { kind: 'missing', why: `query parameter ${ref.name} absent` } : { kind: 'values', values: v };
      }
      case 'body': {
        const b = this.bodyValue();
        if (b.kind !== 'values') return b;
        const top = ref.path[0] as string;
        // Ceph takes a top-level argument missing from the body from the query string or the path.
        const source = this.handlerArgs().get(top)?.source;
        if (source !== undefined && source !== 'body') return { kind: 'error', why: `${top} is given outside the body` };
        return lookup(b.values[0], ref.path, 'body');
      }
      case 'claims':
        return lookup(this.input.principal.claims, ref.path, 'claims');
      case 'pools':
        this.pools ??= this.poolSet();
        return this.pools;
      case 'time': {
        const d = this.input.now;
        const v =
          ref.part === 'hour'
            ? d.getUTCHours()
            : ref.part === 'weekday'
              ? WEEKDAYS[d.getUTCDay()]
              : ref.part === 'date'
                ? d.toISOString().slice(0, 10)
                : Math.floor(d.getTime() / 1000);
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
    if (!cephReadsBody(this.input.method)) return { kind: 'error', why: `Ceph ignores the body of a ${this.input.method}` };
    if (body.length > this.maxInspectBytes) return { kind: 'error', why: `body over the inspection limit (${this.maxInspectBytes} bytes)` };
    // Ceph (cherrypy) reads form-encoded bodies as handler arguments too, and ignores a JSON body whose
    // Content-Type is not exactly one it parses: either way the body Ceph acts on is not this JSON.
    if (!cephReadsJsonBody(this.input.method, contentType?.trim() ?? null)) return { kind: 'error', why: 'body content type is not exactly application/json' };
    const r = parseStrictJson(body);
    return r.ok ? { kind: 'values', values: [r.value] } : { kind: 'error', why: r.reason };
  }

  /**
   * Null when Ceph's handler takes argument `name` from `from` (or nobody names it); otherwise an error:
   * a later source replaces it (query over path, body over both), or an unreadable body might.
   */
  private replacedBy(name: string, from: 'path' | 'query'): FieldValue | null {
    const b = this.bodyArgs();
    if (b !== null && b.kind === 'error') return b;
    const source = this.handlerArgs().get(name)?.source;
    if (source === undefined || source === from) return null;
    return { kind: 'error', why: `${name} is also given in the ${source === 'query' ? 'query string' : 'body'}` };
  }

  /** Ceph's handler arguments and their sources (ceph/arguments.ts), with an unreadable body as none. */
  private handlerArgs(): ReadonlyMap<string, HandlerArgument> {
    if (this.args === undefined) {
      const b = this.bodyArgs();
      this.args = handlerArguments(
        this.input.route,
        this.input.query,
        b !== null && b.kind === 'values' ? { kind: 'json', value: b.values[0] } : { kind: 'none' },
      );
    }
    return this.args;
  }

  /** The body as Ceph merges it into the arguments: null when Ceph merges nothing (no body, DELETE). */
  private bodyArgs(): FieldValue | null {
    const { body } = this.input;
    if (body === null || body.length === 0 || !cephReadsBody(this.input.method)) return null;
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

  /** Every pool the request names (ceph/arguments.ts namedPools); unreadable when any source cannot be read. */
  private poolSet(): FieldValue {
    const op = this.input.route.operation;
    // An operation with pool fields is judged on its body even when Ceph would ignore it (fail closed).
    const merged = op !== null && op.poolFields.length > 0 ? this.bodyValue() : this.bodyArgs();
    const body: BodyArguments =
      merged === null || merged.kind === 'missing'
        ? { kind: 'none' }
        : merged.kind === 'error'
          ? { kind: 'unreadable', why: merged.why }
          : { kind: 'json', value: merged.values[0] };
    const { pools, problem } = namedPools(this.input.route, this.input.query, body);
    if (problem !== null) return { kind: 'error', why: problem };
    return pools.length === 0 ? { kind: 'missing', why: 'request names no pool' } : { kind: 'values', values: pools };
  }
}
