// Maps (method, request target) to a RouteMatch: which cluster, which catalogue operation, which decoded
// parameters. Unknown routes are refused (404 unknown_route) unless the cluster allows them explicitly;
// on clusters that serve the dashboard UI, a GET of one of the UI's files is the UI_ASSET pseudo operation.

import type { RouteMatch } from '../core/catalogue.ts';
import { GatewayError } from '../core/errors.ts';
import type { HttpMethod, RequestTarget } from '../core/http.ts';
import type { RouteCatalogue } from './catalogue.ts';
import { decodeSegment } from './path-decode.ts';
import { isUiAssetPath, UI_ASSET } from './ui-assets.ts';

export interface RouteMatcherOptions {
  readonly catalogues: ReadonlyMap<string, RouteCatalogue>;
  readonly defaultCluster: string;
  readonly allowUnknown: ReadonlyMap<string, boolean>;
  /** Clusters whose dashboard web UI is served through the gateway (docs/dashboard-ui.md). */
  readonly uiClusters?: ReadonlySet<string>;
}

export type RouteMatcher = (method: HttpMethod, target: RequestTarget) => RouteMatch;

/** True when every segment decodes strictly and none is a `.`/`..` dot-segment (RFC 3986 5.2.4) once decoded. */
function wellFormed(segments: readonly string[]): boolean {
  return segments.every((s) => {
    const d = decodeSegment(s);
    return d !== null && d !== '.' && d !== '..';
  });
}

export function createRouteMatcher(options: RouteMatcherOptions): RouteMatcher {
  if (!options.catalogues.has(options.defaultCluster)) throw new Error(`route matcher: no catalogue for default cluster ${options.defaultCluster}`);
  return function matchRoute(method, target) {
    const cluster = target.cluster ?? options.defaultCluster;
    const catalogue = options.catalogues.get(cluster);
    if (catalogue === undefined) throw new GatewayError(404, 'not_found', `No cluster named ${JSON.stringify(cluster)}.`);
    const found = catalogue.match(method, target.segments);
    if (found !== null) return { cluster, operation: found.operation, template: found.operation.template, params: found.params };
    if (!wellFormed(target.segments)) throw new GatewayError(400, 'invalid_path', 'The request path is not validly encoded.');
    if (method === 'GET' && options.uiClusters?.has(cluster) === true && isUiAssetPath(target.segments)) {
      return { cluster, operation: UI_ASSET, template: UI_ASSET.template, params: {} };
    }
    if (options.allowUnknown.get(cluster) === true) return { cluster, operation: null, template: target.rawPath, params: {} };
    throw new GatewayError(404, 'unknown_route', `${method} ${target.rawPath} is not an operation of the Ceph ${catalogue.release} API.`);
  };
}
