// Compiles `when` conditions once at load (field references checked against the rule's operations,
// globs turned into RegExps) and evaluates them with fail-closed semantics for deny and allow rules.

import { SPEC_PARAMS } from '../ceph/arguments.ts';
import type { CatalogueOperation } from '../core/catalogue.ts';
import { compileGlobs, globProblem } from './glob.ts';
import type { CompiledCondition, CompiledOp, FieldRef, Scalar } from './model.ts';
import type { FieldValue, RequestView } from './request-view.ts';
import type { RawCondition } from './schema.ts';

const TIME_PARTS = new Set(['hour', 'weekday', 'date', 'unix']);
const SPEC_PARTS = new Set(['pool', 'namespace', 'image']);

/** Compiles one condition. `ops` are the operations the rule applies to, or null for `*` routes. */
export function compileCondition(field: string, raw: RawCondition, ops: readonly CatalogueOperation[] | null): CompiledCondition | string {
  const ref = parseField(field, ops);
  if (typeof ref === 'string') return ref;
  const spec = raw;
  const out: CompiledOp[] = [];
  if (spec.equals !== undefined) out.push({ op: 'equals', value: spec.equals });
  if (spec.one_of !== undefined) out.push({ op: 'one_of', values: spec.one_of });
  if (spec.glob !== undefined) {
    const globs = typeof spec.glob === 'string' ? [spec.glob] : spec.glob;
    for (const g of globs) {
      const p = globProblem(g);
      if (p !== null) return `${field}: ${p}`;
    }
    out.push({ op: 'glob', source: globs, re: compileGlobs(globs) });
  }
  if (spec.prefix !== undefined) out.push({ op: 'prefix', values: typeof spec.prefix === 'string' ? [spec.prefix] : spec.prefix });
  if (spec.min !== undefined) out.push({ op: 'min', value: spec.min });
  if (spec.max !== undefined) out.push({ op: 'max', value: spec.max });
  if (spec.exists !== undefined) {
    if (out.length > 0) return `${field}: exists cannot be combined with other operators`;
    out.push({ op: 'exists', value: spec.exists });
  }
  return { field, ref, ops: out };
}

function parseField(field: string, ops: readonly CatalogueOperation[] | null): FieldRef | string {
  const [head, ...rest] = field.split('.');
  const every = (pred: (op: CatalogueOperation) => boolean) => ops !== null && ops.length > 0 && ops.every(pred);
  const some = (pred: (op: CatalogueOperation) => boolean) => ops === null || ops.some(pred);
  switch (head) {
    case 'pools':
      if (rest.length > 0) return `unknown field ${field}: pools has no parts`;
      return { kind: 'pools' };
    case 'path': {
      const [param, part, ...more] = rest;
      if (param === undefined || more.length > 0) return `unknown field ${field}: use path.<param> or path.<spec param>.pool|namespace|image`;
      // Strict on purpose: a path condition on a route without that parameter could never be evaluated.
      if (!every((op) => op.pathParams.includes(param))) {
        return ops === null
          ? `${field}: path conditions need explicit routes, not *; use pools for every pool a request names`
          : `unknown path parameter {${param}}: not a parameter of every route of the rule`;
      }
      if (part !== undefined && (!SPEC_PARAMS.has(param) || !SPEC_PARTS.has(part)))
        return `unknown field ${field}: only ${[...SPEC_PARAMS].join(', ')} have parts pool, namespace, image`;
      return { kind: 'path', param, part: (part ?? null) as 'pool' | 'namespace' | 'image' | null };
    }
    case 'query': {
      const name = rest.join('.');
      if (name === '') return `unknown field ${field}`;
      if (!some((op) => op.queryParams.includes(name))) return `unknown query parameter ${name}: no route of the rule accepts it`;
      return { kind: 'query', name };
    }
    case 'body': {
      if (rest.length === 0 || rest.some((s) => s === '')) return `unknown field ${field}`;
      // Field names are not checked against the spec: it under-declares bodies (Pool.create lists only
      // `pool` but takes pg_num and more through **kwargs). A rule whose routes take no body is an error.
      if (!some((op) => op.method !== 'GET' && op.method !== 'HEAD')) return `${field}: no route of the rule takes a body`;
      return { kind: 'body', path: rest };
    }
    case 'claims':
      if (rest.length === 0 || rest.some((s) => s === '')) return `unknown field ${field}`;
      return { kind: 'claims', path: rest };
    case 'time': {
      const part = rest.join('.');
      if (!TIME_PARTS.has(part)) return `unknown field ${field}: use time.hour, time.weekday, time.date or time.unix (UTC)`;
      return { kind: 'time', part: part as 'hour' | 'weekday' | 'date' | 'unix' };
    }
    default:
      return `unknown field ${field}: fields start with path., query., body., claims., time. or are pools`;
  }
}

/** Three-valued: the condition holds, does not hold, or cannot be evaluated (with why). */
export type CondResult = { readonly r: 'true' | 'false' | 'error'; readonly why: string };

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+(?:\.\d+)?$/.test(v)) return Number(v);
  return Number.NaN;
}

function same(v: unknown, want: Scalar): boolean {
  if (v === want) return true;
  if (typeof want === 'number' && typeof v === 'string') return num(v) === want;
  if (typeof want === 'boolean' && typeof v === 'string') return v === String(want);
  return false;
}

/** One value against one operator: true, false, or null when the value's type does not fit. */
function test(op: CompiledOp, v: unknown): boolean | null {
  switch (op.op) {
    case 'equals':
      return same(v, op.value);
    case 'one_of':
      return op.values.some((w) => same(v, w));
    case 'glob':
      return typeof v === 'string' ? op.re.test(v) : null;
    case 'prefix':
      return typeof v === 'string' ? op.values.some((p) => v.startsWith(p)) : null;
    case 'min':
    case 'max': {
      const n = num(v);
      if (Number.isNaN(n)) return null;
      return op.op === 'min' ? n >= op.value : n <= op.value;
    }
    case 'exists':
      return op.value;
  }
}

/**
 * Evaluates a condition for an allow rule (every value must satisfy every operator) or a deny rule
 * (one value satisfying every operator is enough): a second pool or a repeated query value can
 * neither earn an allow nor dodge a deny.
 */
export function evaluate(c: CompiledCondition, view: RequestView, effect: 'allow' | 'deny', verbose: boolean): CondResult {
  const fv: FieldValue = view.get(c.ref);
  const first = c.ops[0];
  if (first?.op === 'exists') {
    if (fv.kind === 'error') return { r: 'error', why: fv.why };
    const present = fv.kind === 'values';
    return present === first.value
      ? { r: 'true', why: `${c.field} ${present ? 'present' : 'absent'}` }
      : { r: 'false', why: `${c.field} ${present ? 'present' : 'absent'}` };
  }
  // A request that names no pool at all is simply not about pools: neither an allow nor a deny on
  // `pools` applies to it (otherwise a deny on `*` would refuse every pool-less route).
  if (fv.kind === 'missing' && c.ref.kind === 'pools') return { r: 'false', why: fv.why };
  if (fv.kind !== 'values') return { r: 'error', why: fv.why };
  let anyTrue = false;
  let allTrue = true;
  let typeErr: string | null = null;
  for (const v of fv.values) {
    let ok = true;
    for (const op of c.ops) {
      const t = test(op, v);
      if (t === null) {
        typeErr ??= `${c.field} value ${showValues([v])} does not fit ${op.op}`;
        ok = false;
        break;
      }
      if (!t) ok = false;
    }
    if (ok) anyTrue = true;
    else allTrue = false;
  }
  // Only explain output shows values: building the string costs more than the test itself.
  const shown = verbose ? showValues(fv.values) : '';
  if (effect === 'deny') {
    if (anyTrue) return { r: 'true', why: `${c.field} = ${shown}` };
    return typeErr !== null ? { r: 'error', why: typeErr } : { r: 'false', why: `${c.field} = ${shown}` };
  }
  if (typeErr !== null) return { r: 'error', why: typeErr };
  return { r: allTrue ? 'true' : 'false', why: `${c.field} = ${shown}` };
}

function showValues(values: readonly unknown[]): string {
  let s = '';
  for (const v of values) s += `${s === '' ? '' : ', '}${(JSON.stringify(v) ?? String(v)).slice(0, 60)}`;
  return s;
}
