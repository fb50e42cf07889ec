// The route catalogue of a Ceph release: the operations generated from its OpenAPI spec (`/api`) and
// from its dashboard controllers (`/ui-api`, the routes the web UI calls, which the spec omits), plus
// a per-method trie that matches a raw (percent-encoded) path in O(segments). No I/O: the JSON files
// are bundled as modules (scripts/catalogue/ regenerates them).

import type { CatalogueOperation, CephRelease } from '../core/catalogue.ts';
import type { HttpMethod } from '../core/http.ts';
import pacific from './catalogue/pacific.json' with { type: 'json' };
import reef from './catalogue/reef.json' with { type: 'json' };
import tentacle from './catalogue/tentacle.json' with { type: 'json' };
import uiPacific from './catalogue/ui-api-pacific.json' with { type: 'json' };
import uiReef from './catalogue/ui-api-reef.json' with { type: 'json' };
import uiTentacle from './catalogue/ui-api-tentacle.json' with { type: 'json' };
import { decodeParam } from './path-decode.ts';

export interface CatalogueMatch {
  readonly operation: CatalogueOperation;
  readonly params: Record<string, string>;
}

export interface RouteCatalogue {
  readonly release: CephRelease;
  readonly operations: readonly CatalogueOperation[];
  /** `segments` are raw (still percent-encoded), as in RequestTarget.segments. */
  match(method: HttpMethod, segments: readonly string[]): CatalogueMatch | null;
  byId(id: string): readonly CatalogueOperation[];
  byTemplate(template: string): readonly CatalogueOperation[];
}

interface Node {
  readonly literals: Map<string, Node>;
  param: Node | null;
  op: CatalogueOperation | null;
}

const newNode = (): Node => ({ literals: new Map(), param: null, op: null });

type RawCatalogue = { release: string; operations: unknown[] };
const RAW: Record<CephRelease, RawCatalogue> = { pacific, reef, tentacle };
/** The `/ui-api` routes of the releases whose dashboard sources have been read (docs/dashboard-ui.md). */
const RAW_UI: Partial<Record<CephRelease, RawCatalogue>> = { pacific: uiPacific, reef: uiReef, tentacle: uiTentacle };

/** True when the catalogue knows the release's `/ui-api` routes, so its web UI can be served. */
export const knowsUiRoutes = (release: CephRelease): boolean => RAW_UI[release] !== undefined;
const cache = new Map<CephRelease, RouteCatalogue>();

export function loadCatalogue(release: CephRelease): RouteCatalogue {
  let cat = cache.get(release);
  if (cat === undefined) {
    cat = buildCatalogue(release, [...RAW[release].operations, ...(RAW_UI[release]?.operations ?? [])] as CatalogueOperation[]);
    cache.set(release, cat);
  }
  return cat;
}

/** Builds a catalogue from operations (exported for tests with hand-written operations). */
export function buildCatalogue(release: CephRelease, operations: readonly CatalogueOperation[]): RouteCatalogue {
  const tries = new Map<HttpMethod, Node>();
  const byId = new Map<string, CatalogueOperation[]>();
  const byTemplate = new Map<string, CatalogueOperation[]>();
  for (const op of operations) {
    let node: Node = tries.get(op.method) ?? newNode();
    tries.set(op.method, node);
    for (const seg of op.segments) {
      if ('literal' in seg) {
        const next: Node = node.literals.get(seg.literal) ?? newNode();
        node.literals.set(seg.literal, next);
        node = next;
      } else {
        node = node.param ??= newNode();
      }
    }
    if (node.op !== null) throw new Error(`catalogue ${release}: ${op.method} ${op.template} duplicates ${node.op.template}`);
    node.op = op;
    byId.set(op.id, [...(byId.get(op.id) ?? []), op]);
    byTemplate.set(op.template, [...(byTemplate.get(op.template) ?? []), op]);
  }

  // Depth-first: at each position the literal child is tried before the parameter child. Literals
  // compare raw and case-sensitively, so `%`-encoded or case-folded spellings never hit a literal.
  const walk = (node: Node, segments: readonly string[], i: number): CatalogueOperation | null => {
    if (i === segments.length) return node.op;
    const seg = segments[i] as string;
    const lit = node.literals.get(seg);
    if (lit !== undefined) {
      const found = walk(lit, segments, i + 1);
      if (found !== null) return found;
    }
    return node.param === null || seg === '' ? null : walk(node.param, segments, i + 1);
  };

  return {
    release,
    operations,
    match(method, segments) {
      const root = tries.get(method);
      if (root === undefined) return null;
      const op = walk(root, segments, 0);
      if (op === null) return null;
      const params: Record<string, string> = {};
      for (const [i, seg] of op.segments.entries()) {
        if (!('param' in seg)) continue;
        const value = decodeParam(seg.param, segments[i] as string);
        if (value === null) return null;
        params[seg.param] = value;
      }
      return { operation: op, params };
    },
    byId: (id) => byId.get(id) ?? [],
    byTemplate: (template) => byTemplate.get(template) ?? [],
  };
}
