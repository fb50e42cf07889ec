// The Ceph API's operations as the route catalogue knows them (ceph/), and the result of matching a
// request against them.

import type { HttpMethod } from './http.ts';

export type CephRelease = 'pacific' | 'reef' | 'tentacle';
export type CephPermission = 'read' | 'create' | 'update' | 'delete';

export type TemplateSegment = { readonly literal: string } | { readonly param: string };

/** One operation of the Ceph dashboard API, generated from the OpenAPI spec of a release. */
export interface CatalogueOperation {
  /** Operation name, e.g. `Pool.create` (controller tag + handler). */
  readonly id: string;
  readonly method: HttpMethod;
  /** Path template, e.g. `/api/pool/{pool_name}`. */
  readonly template: string;
  readonly segments: readonly TemplateSegment[];
  readonly pathParams: readonly string[];
  /** Declared API version for the configured release, e.g. `1.0`, `2.0`, `0.1`. */
  readonly version: string;
  /** Ceph RBAC scope and permission (e.g. `pool`, `create`), null when the spec names none. */
  readonly scope: string | null;
  readonly permission: CephPermission | null;
  /** Dotted JSON body paths whose values name a pool (e.g. `pool`, `pool_name`, `data_pool`, `dest_pool_name`). */
  readonly poolFields: readonly string[];
  /** Dotted JSON body paths that hold secrets (redacted in audit). */
  readonly secretFields: readonly string[];
  /** Body field names the operation accepts (top level), for policy validation. */
  readonly bodyFields: readonly string[];
  /** Query parameter names the operation accepts. */
  readonly queryParams: readonly string[];
  /** True when Ceph serves it without a token (auth/check, docs, prometheus_receiver, ...). */
  readonly unauthenticated: boolean;
}

/** The result of matching a request against the catalogue. */
export interface RouteMatch {
  /** Cluster name (the configured default when the request had no `/clusters/<name>` prefix). */
  readonly cluster: string;
  /** The matched operation, or null when the config allows unknown routes and none matched. */
  readonly operation: CatalogueOperation | null;
  /** Matched template, or the raw path for an allowed unknown route. */
  readonly template: string;
  /** Path parameters, each percent-decoded exactly once. */
  readonly params: Readonly<Record<string, string>>;
}
