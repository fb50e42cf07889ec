// Derives CatalogueOperation records from a dashboard OpenAPI spec (pure; used by scripts/gen-catalogue.ts).
// Operation names follow the dashboard's RESTController conventions (list/create/get/set/delete, or the
// endpoint's own path segment), prefixed by the controller tag: `Pool.create`, `Rbd.copy`.

import type { CatalogueOperation, CephRelease, TemplateSegment } from '../../src/core/catalogue.ts';
import type { HttpMethod } from '../../src/core/http.ts';
import { EXTRA_UNAUTHENTICATED, isUnauthenticatedSpecOp, POOL_FIELD_NAMES, permissionOfMethod, SECRET_FIELD_NAMES, scopeOfTag } from './fields.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const VERSION_MEDIA = /^application\/vnd\.ceph\.api\.v(\d+\.\d+)\+json$/;

export function parseTemplate(template: string): TemplateSegment[] {
  return template
    .split('/')
    .slice(1)
    .map((s) => {
      const m = /^\{([^{}]+)\}$/.exec(s);
      return m?.[1] !== undefined ? { param: m[1] } : { literal: s };
    });
}

/** Walks a JSON schema; returns dotted paths (`a.b`, `a[].b` for array items) of every property. */
export function schemaPaths(schema: unknown, prefix = ''): string[] {
  if (!isObj(schema)) return [];
  const out: string[] = [];
  if (isObj(schema.properties)) {
    for (const [name, sub] of Object.entries(schema.properties)) {
      out.push(prefix + name);
      out.push(...schemaPaths(sub, `${prefix}${name}.`));
    }
  }
  if (isObj(schema.items)) out.push(...schemaPaths(schema.items, `${prefix.replace(/\.$/, '')}[].`));
  return out;
}

const lastName = (path: string): string => path.split('.').at(-1)?.replace(/\[\]$/, '') ?? path;

interface Draft {
  tag: string;
  method: HttpMethod;
  template: string;
  segments: TemplateSegment[];
  op: Obj;
}

function restVerb(method: HttpMethod, endsWithParam: boolean): string {
  if (endsWithParam) return { GET: 'get', HEAD: 'get', PUT: 'set', PATCH: 'update', DELETE: 'delete', POST: 'create', OPTIONS: 'options' }[method];
  return { GET: 'list', HEAD: 'list', PUT: 'bulk_set', PATCH: 'bulk_update', DELETE: 'bulk_delete', POST: 'create', OPTIONS: 'options' }[method];
}

const tagName = (tag: string): string => tag.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase());

/** Names every draft `<Tag>.<name>`; names are unique within the returned list. */
function nameOperations(drafts: readonly Draft[]): string[] {
  const byTag = new Map<string, number[]>();
  for (const [i, d] of drafts.entries()) byTag.set(d.tag, [...(byTag.get(d.tag) ?? []), i]);
  const names: string[] = new Array<string>(drafts.length).fill('');
  for (const [tag, idx] of byTag) {
    // Common segment prefix of the controller's paths: what remains names the endpoint.
    const segLists = idx.map((i) => drafts[i]?.segments ?? []);
    let common = 0;
    const first = segLists[0] ?? [];
    while (common < first.length && segLists.every((s) => JSON.stringify(s[common]) === JSON.stringify(first[common]))) common++;
    const base = idx.map((i) => {
      const d = drafts[i] as Draft;
      const rest = d.segments.slice(common);
      const literals = rest.flatMap((s) => ('literal' in s ? [s.literal.replace(/-/g, '_')] : []));
      const last = d.segments.at(-1);
      const verb = restVerb(d.method, last !== undefined && 'param' in last);
      return { i, name: literals.length > 0 ? literals.join('_') : verb, verb, endsWithParam: last !== undefined && 'param' in last };
    });
    const count = new Map<string, number>();
    for (const b of base) count.set(b.name, (count.get(b.name) ?? 0) + 1);
    const used = new Set<string>();
    // Fewer path parameters first, so the collection-level endpoint keeps the plain name on a clash.
    const params = (i: number) => (drafts[i] as Draft).segments.filter((s) => 'param' in s).map((s) => ('param' in s ? s.param : ''));
    base.sort((a, b) => params(a.i).length - params(b.i).length);
    for (const b of base) {
      let name = b.name;
      const d = drafts[b.i] as Draft;
      // Same sub-resource, several operations: the collection read keeps the bare name, the others get their verb.
      if ((count.get(name) ?? 0) > 1 && name !== b.verb && (d.method !== 'GET' || b.endsWithParam)) name = `${name}_${b.verb}`;
      let candidate = `${tagName(tag)}.${name}`;
      if (used.has(candidate)) candidate = `${tagName(tag)}.${name}_${params(b.i).join('_')}`;
      for (let n = 2; used.has(candidate); n++) candidate = `${tagName(tag)}.${name}_${n}`;
      used.add(candidate);
      names[b.i] = candidate;
    }
  }
  return names;
}

function versionOf(op: Obj): string {
  const versions = new Set<string>();
  if (isObj(op.responses)) {
    for (const r of Object.values(op.responses)) {
      if (!isObj(r) || !isObj(r.content)) continue;
      for (const media of Object.keys(r.content)) {
        const v = VERSION_MEDIA.exec(media)?.[1];
        if (v !== undefined) versions.add(v);
      }
    }
  }
  if (versions.size > 1) throw new Error(`several versions ${[...versions].join(', ')}`);
  return [...versions][0] ?? '1.0'; // docs/ceph-facts.md: the default version of an endpoint is 1.0
}

function paramNames(op: Obj, where: 'query' | 'path'): string[] {
  if (!Array.isArray(op.parameters)) return [];
  return op.parameters.flatMap((p: unknown) => (isObj(p) && p.in === where && typeof p.name === 'string' ? [p.name] : []));
}

export function catalogueFromSpec(spec: unknown): CatalogueOperation[] {
  if (!isObj(spec) || !isObj(spec.paths)) throw new Error('not an OpenAPI document: no paths');
  const drafts: Draft[] = [];
  for (const [template, item] of Object.entries(spec.paths)) {
    if (!isObj(item)) continue;
    for (const [m, op] of Object.entries(item)) {
      const method = m.toUpperCase() as HttpMethod;
      if (!METHODS.includes(method) || !isObj(op)) continue;
      const tag = Array.isArray(op.tags) && typeof op.tags[0] === 'string' ? op.tags[0] : 'Untagged';
      drafts.push({ tag, method, template, segments: parseTemplate(template), op });
    }
  }
  const names = nameOperations(drafts);
  const ops = drafts.map((d, i): CatalogueOperation => {
    const body = isObj(d.op.requestBody) && isObj(d.op.requestBody.content) ? d.op.requestBody.content['application/json'] : undefined;
    const schema = isObj(body) ? body.schema : undefined;
    const paths = schemaPaths(schema);
    const unauthenticated = isUnauthenticatedSpecOp(d.template, Array.isArray(d.op.security) && d.op.security.length > 0);
    const scope = unauthenticated ? null : scopeOfTag(d.tag);
    const declared = paramNames(d.op, 'path');
    const inTemplate = d.segments.flatMap((s) => ('param' in s ? [s.param] : []));
    if (declared.some((p) => !inTemplate.includes(p))) throw new Error(`${d.method} ${d.template}: path parameter not in template`);
    return {
      id: names[i] as string,
      method: d.method,
      template: d.template,
      segments: d.segments,
      pathParams: inTemplate,
      version: versionOf(d.op),
      scope,
      permission: unauthenticated ? null : permissionOfMethod(d.method),
      poolFields: paths.filter((p) => POOL_FIELD_NAMES.has(lastName(p))),
      secretFields: paths.filter((p) => SECRET_FIELD_NAMES.has(lastName(p))),
      bodyFields: isObj(schema) && isObj(schema.properties) ? Object.keys(schema.properties) : [],
      queryParams: paramNames(d.op, 'query'),
      unauthenticated,
    };
  });
  for (const extra of EXTRA_UNAUTHENTICATED) {
    if (ops.some((o) => o.method === extra.method && o.template === extra.template)) continue;
    const segments = parseTemplate(extra.template);
    ops.push({
      ...extra,
      segments,
      pathParams: [],
      version: '1.0',
      scope: null,
      permission: null,
      poolFields: [],
      secretFields: [],
      bodyFields: [],
      queryParams: [],
      unauthenticated: true,
    });
  }
  return ops.sort((a, b) => a.template.localeCompare(b.template) || METHODS.indexOf(a.method) - METHODS.indexOf(b.method));
}

/** One operation per line: diffable and compact. */
export function serialiseCatalogue(release: CephRelease, ops: readonly CatalogueOperation[]): string {
  return `{"release":${JSON.stringify(release)},"operations":[\n${ops.map((o) => JSON.stringify(o)).join(',\n')}\n]}\n`;
}
