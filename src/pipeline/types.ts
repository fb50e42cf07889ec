// The typed contracts between the stages of the request pipeline.
// intake -> authenticate -> match route -> decide -> audit intent -> upstream -> audit outcome -> respond.
// Every stage module implements one of these interfaces; server/app.ts only wires them.

import type { Readable } from 'node:stream';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** The one canonical parse of the request target (intake/request-target.ts). No other parser exists. */
export interface RequestTarget {
  /** The request target exactly as received (path + optional `?query`). Forwarded unchanged. */
  readonly raw: string;
  /** Raw path, still percent-encoded, without the `/clusters/<name>` prefix. Forwarded unchanged. */
  readonly rawPath: string;
  /** `rawPath` split on literal `/` (leading empty segment dropped), each segment still percent-encoded. */
  readonly segments: readonly string[];
  /** Raw query string without the `?` ("" when none). Forwarded unchanged. */
  readonly rawQuery: string;
  /** Decoded query parameters (application/x-www-form-urlencoded rules), every value kept. */
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** Cluster named by a `/clusters/<name>/` prefix, or null for the default cluster. */
  readonly cluster: string | null;
}

export type AuthMethod = 'oidc_bearer' | 'session' | 'api_key' | 'ceph_native';

/** Who is calling. Produced by the authenticator chain (auth/). */
export interface Principal {
  /** Stable id: `<issuer>#<subject>` for OIDC, `apikey:<key id>` for API keys, `ceph:<cluster>/<user>` for Ceph-native logins. */
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
  readonly groups: readonly string[];
  readonly method: AuthMethod;
  readonly authenticatedAt: Date;
  /** Set when method is api_key. */
  readonly apiKeyName: string | null;
  /** Verified token claims (OIDC) or an empty object; policies may condition on them. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** For ceph_native principals: the Ceph account (cluster-local user) whose token serves them. */
  readonly cephUser?: string;
}

/** What an authenticator answers (ory/oathkeeper style): not mine, ok, or a definite failure. */
export type AuthResult =
  | { readonly kind: 'skip' }
  | { readonly kind: 'ok'; readonly principal: Principal }
  | { readonly kind: 'fail'; readonly code: AuthFailureCode; readonly detail: string; readonly cause?: unknown };

export type AuthFailureCode = 'invalid_token' | 'invalid_request' | 'expired_token' | 'revoked' | 'session_expired' | 'csrf_failed';

/** What authenticators may look at: headers (lower-cased names, repeated headers kept) and the target. */
export interface AuthInput {
  readonly method: HttpMethod;
  readonly headers: RequestHeaders;
  readonly target: RequestTarget;
  readonly clientIp: string;
}

export interface Authenticator {
  readonly name: string;
  authenticate(input: AuthInput): Promise<AuthResult>;
}

/** Lower-cased header name -> every value received, in order (raw, never merged). */
export type RequestHeaders = ReadonlyMap<string, readonly string[]>;

// ---- Route catalogue (ceph/) ----

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

// ---- Policy (policy/) ----

export interface Decision {
  readonly effect: 'allow' | 'deny';
  /** Rule that decided, or null for the default deny. */
  readonly ruleId: string | null;
  /** A human reason safe to return to the caller (names no other rules). */
  readonly reason: string;
  /** Ceph account that serves the request (allow only). */
  readonly cephAccount: string | null;
  /** Hash of the active policy set. */
  readonly policyVersion: string;
  /** Rules in shadow mode that matched, with what they would have decided. */
  readonly shadow?: readonly { readonly ruleId: string; readonly effect: 'allow' | 'deny' }[];
}

/** Everything the policy engine decides on. `body` is the exact bytes that will be forwarded. */
export interface PolicyInput {
  readonly principal: Principal;
  readonly method: HttpMethod;
  readonly route: RouteMatch;
  readonly query: Readonly<Record<string, readonly string[]>>;
  readonly body: Buffer | null;
  readonly contentType: string | null;
  readonly now: Date;
}

export interface PolicyEngine {
  decide(input: PolicyInput): Decision;
  readonly version: string;
}

// ---- Audit (audit/) ----

export interface AuditIntent {
  readonly id: string; // UUIDv7
  readonly requestId: string;
  readonly receivedAt: Date;
  readonly cluster: string | null;
  readonly principal: Principal | null;
  readonly clientIp: string;
  readonly userAgent: string | null;
  readonly method: string;
  readonly rawPath: string;
  readonly route: RouteMatch | null;
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** Parsed JSON body (redacted by the store before writing) or null. */
  readonly body: unknown;
  readonly decision: Decision | null;
  /** For requests refused before forwarding (denials, auth failures): the final status now. */
  readonly finalStatus?: number;
  readonly errorCode?: string;
}

export interface AuditOutcome {
  readonly forwardedAt: Date | null;
  readonly completedAt: Date;
  readonly upstreamStatus: number | null;
  readonly status: number;
  readonly cephErrorDetail: string | null;
  readonly cephErrorCode: string | null;
  readonly cephTask: string | null;
  readonly errorCode: string | null;
}

export interface AuditSink {
  /** Commit the intent durably. Rejects when the store cannot take it: the caller then refuses with 503. */
  recordIntent(intent: AuditIntent): Promise<void>;
  /**
   * Record a request refused before forwarding (a denial, an authentication failure, a 503 because the
   * intent could not be committed). When the store is down it is kept in a local spool and appended
   * later; rejects only when neither can take it.
   */
  recordRefusal(intent: AuditIntent): Promise<void>;
  /** Add the outcome to a committed intent. Enqueued synchronously: the pipeline answers the client
   *  without waiting for the commit. */
  recordOutcome(id: string, outcome: AuditOutcome): Promise<void>;
  /** Resolves once everything recorded before the call is committed (read-your-writes for the audit API). */
  flush?(): Promise<void>;
  /** True when the store answers (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

// ---- Upstream (ceph/ + proxy/) ----

/** A request ready to leave for Ceph: identity headers already stripped, hop-by-hop removed. */
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
