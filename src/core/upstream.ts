// A request on its way to Ceph and Ceph's answer, and the upstream that sends one (ceph/, proxy/).

import type { Readable } from 'node:stream';
import type { CatalogueOperation } from './catalogue.ts';
import type { HttpMethod } from './http.ts';

export interface UpstreamRequest {
  readonly requestId: string;
  readonly cluster: string;
  readonly cephAccount: string | null;
  readonly method: HttpMethod;
  /** Raw path + query exactly as received (cluster prefix removed). */
  readonly pathAndQuery: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | null;
  readonly operation: CatalogueOperation | null;
  /** The client's Accept header, for version negotiation. */
  readonly clientAccept: string | null;
  /** A Ceph user's own token (ceph_native principals): replaces any service account; never re-logged in. */
  readonly userCredential?: { readonly token: string; rejected(): void };
  readonly signal?: AbortSignal;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Readable;
  /** The dashboard (mgr) URL that answered, when one did. */
  readonly mgr?: string;
  /** Set when the answer was shared with other requests (coalesced call or micro-cache). */
  readonly shared?: 'coalesced' | 'cached';
}

/** Sends a prepared request to the right Ceph mgr with the right credential and version. */
export interface Upstream {
  send(req: UpstreamRequest): Promise<UpstreamResponse>;
  /** True when the cluster's active mgr answers (for /readyz). */
  ping(cluster?: string): Promise<boolean>;
  close(): Promise<void>;
}
