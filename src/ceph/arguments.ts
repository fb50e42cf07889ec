// How a Ceph dashboard handler's arguments come out of a request, and which pools they name. Ceph's
// own code is the authority (CherryPy 18 and the dashboard's `_request_wrapper`, verified by
// test/security/cherrypy-differential.test.ts against the installed sources):
//   1. path parameters (the server decodes the path except `%2F`),
//   2. query arguments, split on `&` and `;` (intake/request-target.ts parseCephQuery), REPLACE path
//      parameters of the same name,
//   3. every string argument is percent-decoded once more (`unquote`); intake refuses any value that
//      still holds a `%XX` after the gateway's one decode, so this second decode changes nothing,
//   4. for POST/PUT/PATCH whose Content-Type is exactly `application/json` or `text/javascript`, the
//      top-level keys of the JSON body REPLACE both (`tools.get_request_body_params`); Ceph ignores
//      the JSON of any other Content-Type, and form bodies are refused at intake (pipeline/body.ts).
// Policy (policy/request-view.ts) and audit (audit/records.ts) both read requests through this file,
// so the pools a rule decides on are the pools the audit record names.

import type { RouteMatch } from '../core/catalogue.ts';
import { GatewayError } from '../core/errors.ts';
import type { HttpMethod } from '../core/http.ts';

const JSON_TYPES: ReadonlySet<string> = new Set(['application/json', 'text/javascript']);
/** CherryPy's `request.methods_with_bodies`: the only methods whose body Ceph reads. */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/** True when Ceph reads the body of this method at all (a DELETE body never reaches a handler). */
export const cephReadsBody = (method: HttpMethod | string): boolean => BODY_METHODS.has(method);

/**
 * Content types CherryPy turns into handler arguments by itself (`_cpreqbody` processors, matched
 * without regard to case): form fields join the query's as lists on the dashboard's
 * `@allow_empty_body` handlers (Rbd.copy's `dest_pool_name`, for one). No Ceph client sends them, so
 * the gateway refuses them rather than model a third argument source.
 */
export function cephParsesAsForm(contentType: string): boolean {
  const media = (contentType.split(';', 1)[0] as string).trim().toLowerCase();
  return media === 'application/x-www-form-urlencoded' || media.startsWith('multipart/');
}

/** True when Ceph merges a JSON body into the handler's arguments (the Content-Type compared as sent). */
export function cephReadsJsonBody(method: HttpMethod | string, contentType: string | null): boolean {
  return BODY_METHODS.has(method) && contentType !== null && JSON_TYPES.has(contentType);
}

/**
 * Refuses a request naming a path parameter again in its query: Ceph would act on the query's value
 * while a decision on the path's would be about another resource (`PUT /api/pool/a?;pool_name=b`).
 */
export function refuseReplacedPathParams(route: RouteMatch, query: Readonly<Record<string, readonly string[]>>): void {
  for (const name of route.operation?.pathParams ?? []) {
    if (query[name] !== undefined) {
      throw new GatewayError(
        400,
        'ambiguous_request',
        `Path parameter ${name} must not also be given in the query string: Ceph would act on the query's value.`,
      );
    }
  }
}

/** Path parameters that name a pool directly. */
export const POOL_PATH_PARAMS: ReadonlySet<string> = new Set(['pool_name']);
/** Query parameters that name a pool (e.g. `GET /api/block/image?pool_name=`). */
export const POOL_QUERY_PARAMS: ReadonlySet<string> = new Set(['pool_name']);
/** Path parameters of the form `pool/[namespace/]image` (one segment, `%2F`-encoded in the raw path). */
export const SPEC_PARAMS: ReadonlySet<string> = new Set(['image_spec', 'image_id_spec']);

export interface ImageSpec {
  readonly pool: string;
  readonly namespace: string | null;
  readonly image: string;
}

export function parseImageSpec(v: string): ImageSpec | null {
  const parts = v.split('/');
  if (parts.some((p) => p.length === 0)) return null;
  if (parts.length === 2) return { pool: parts[0] as string, namespace: null, image: parts[1] as string };
  if (parts.length === 3) return { pool: parts[0] as string, namespace: parts[1] as string, image: parts[2] as string };
  return null;
}

/** The body as Ceph merges it: nothing, a JSON value, or a body the gateway cannot read as Ceph would (why). */
export type BodyArguments =
  | { readonly kind: 'none' }
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'unreadable'; readonly why: string };

export type ArgumentSource = 'path' | 'query' | 'body';

/** One argument a Ceph handler receives: its value and the source it was taken from (the last that names it). */
export interface HandlerArgument {
  readonly value: unknown;
  readonly source: ArgumentSource;
}

/**
 * The arguments Ceph's handler receives, each with its source: path parameters, replaced by query
 * arguments of the same name (one value as a string, repeated names as a list, as CherryPy passes
 * them), replaced by the top-level keys of a JSON body Ceph reads. The second `unquote` of
 * `_request_wrapper` is the identity here: intake refused every value it would change.
 */
export function handlerArguments(route: RouteMatch, query: Readonly<Record<string, readonly string[]>>, body: BodyArguments): Map<string, HandlerArgument> {
  const args = new Map<string, HandlerArgument>();
  for (const [name, value] of Object.entries(route.params)) args.set(name, { value, source: 'path' });
  for (const [name, values] of Object.entries(query)) args.set(name, { value: values.length === 1 ? values[0] : [...values], source: 'query' });
  if (body.kind === 'json' && isObject(body.value)) for (const [name, value] of Object.entries(body.value)) args.set(name, { value, source: 'body' });
  return args;
}

export interface NamedPools {
  /** Every pool any source names, in the order found (duplicates kept out). */
  readonly pools: readonly string[];
  /** The first value that could not be read as a pool name, or null: a decision must not rely on `pools` then. */
  readonly problem: string | null;
}

/**
 * Every pool a request names, from every source Ceph may take a pool-naming argument from: pool path
 * parameters, the pool of image specs, pool query parameters, and every pool field of the body (the
 * operation's `poolFields` at any depth, plus top-level keys of the pool-naming names). Which source
 * wins depends on Ceph's merge order; the set of all of them is never too lax for a decision and
 * always complete for an audit search.
 */
export function namedPools(route: RouteMatch | null, query: Readonly<Record<string, readonly string[]>>, body: BodyArguments): NamedPools {
  const found = new Set<string>();
  let problem: string | null = null;
  const add = (name: string, v: unknown, where: string) => {
    if (v === null) return;
    if (typeof v !== 'string') {
      problem ??= `${where} ${name} is not a string`;
      return;
    }
    if (!SPEC_PARAMS.has(name)) {
      found.add(v);
      return;
    }
    const spec = parseImageSpec(v);
    if (spec === null) problem ??= `${where} ${name} is not pool/[namespace/]image`;
    else found.add(spec.pool);
  };
  const op = route?.operation ?? null;
  const names = new Set<string>([...POOL_PATH_PARAMS, ...SPEC_PARAMS, ...POOL_QUERY_PARAMS]);
  for (const f of op?.poolFields ?? []) if (!f.includes('.')) names.add(f);
  for (const [name, v] of Object.entries(route?.params ?? {})) if (names.has(name)) add(name, v, 'path parameter');
  for (const name of names) for (const v of query[name] ?? []) add(name, v, 'query parameter');
  // RGW zone/zonegroup delete take `?pools=` as a list in an undocumented encoding: never guess.
  if ((query.pools ?? []).some((v) => v !== '')) problem ??= 'query parameter pools cannot be inspected';
  if (body.kind === 'unreadable') problem ??= body.why;
  else if (body.kind === 'json') {
    const fields = new Set<string>(op?.poolFields ?? []);
    for (const n of names) if (isObject(body.value) && Object.hasOwn(body.value, n)) fields.add(n);
    for (const f of fields) {
      const v = lookup(body.value, f.split('.'), 'body');
      if (v.kind === 'error') problem ??= v.why;
      else if (v.kind === 'values') for (const x of v.values) add(f, x, 'body');
    }
  }
  return { pools: [...found], problem };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** What a dotted lookup finds: values, absent, or "cannot be evaluated" (with why). */
export type Lookup =
  | { readonly kind: 'values'; readonly values: readonly unknown[] }
  | { readonly kind: 'missing'; readonly why: string }
  | { readonly kind: 'error'; readonly why: string };

/** Dotted lookup; arrays at the end give several values, numeric segments index arrays. */
export function lookup(root: unknown, path: readonly string[], what: string): Lookup {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === undefined || cur === null) return { kind: 'missing', why: `${what}.${path.join('.')} absent` };
    if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
    else return { kind: 'error', why: `${what}.${path.join('.')}: ${seg} is inside a ${Array.isArray(cur) ? 'list' : typeof cur}` };
  }
  if (cur === undefined || (Array.isArray(cur) && cur.length === 0)) return { kind: 'missing', why: `${what}.${path.join('.')} absent` };
  return { kind: 'values', values: Array.isArray(cur) ? cur : [cur] };
}
