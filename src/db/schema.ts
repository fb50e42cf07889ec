// The one drizzle schema of the gateway database (Postgres or PGlite): identity tables (API keys,
// browser sessions, Ceph-native sessions and login-failure counters), rate-limit counters and the
// audit log. drizzle-kit generates drizzle/*.sql from this file.

import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, pgTable, smallint, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

// ---- Identity (auth/) ----

export const apiKeys = pgTable('api_keys', {
  /** Short public key id. */
  id: text('id').primaryKey(),
  /** Lookup prefix of the presented key. */
  prefix: text('prefix').notNull().unique(),
  /** Hex sha-256 of the secret part; the secret itself is never stored. */
  hash: text('hash').notNull(),
  name: text('name').notNull().unique(),
  groups: jsonb('groups').$type<string[]>().notNull().default([]),
  createdAt: tz('created_at').notNull().defaultNow(),
  expiresAt: tz('expires_at'),
  lastUsedAt: tz('last_used_at'),
  revokedAt: tz('revoked_at'),
  createdBy: text('created_by'),
});

export const sessions = pgTable('sessions', {
  /** sha-256 hex of the cookie value, never the value: a leaked table cannot be replayed as cookies. */
  id: text('id').primaryKey(),
  principal: jsonb('principal').$type<Record<string, unknown>>().notNull(),
  createdAt: tz('created_at').notNull(),
  expiresAt: tz('expires_at').notNull(),
  refreshTokenEnc: text('refresh_token_enc'),
  idTokenHint: text('id_token_hint'),
  groupsRefreshedAt: tz('groups_refreshed_at').notNull(),
  csrfToken: text('csrf_token').notNull(),
  endedAt: tz('ended_at'),
  /** Completed group refreshes. A refresh is written only onto the generation it started from, so of
   *  concurrent refreshes (on any instance) exactly one wins; the others re-read its result. */
  refreshGeneration: integer('refresh_generation').notNull().default(0),
  /** While set and in the future, one instance holds the right to call the IdP for this session. */
  refreshLeaseUntil: tz('refresh_lease_until'),
});

/** Ceph-native login sessions (`Bearer cgn_...`), shared by every gateway instance. */
export const nativeSessions = pgTable(
  'native_sessions',
  {
    /** sha-256 hex of the gateway token, never the token: a copy of the table cannot be replayed. */
    key: text('key').primaryKey(),
    cluster: text('cluster').notNull(),
    username: text('username').notNull(),
    /** The user's Ceph JWT, sealed (AES-256-GCM) with the sessions key and bound to `key`. */
    cephTokenEnc: text('ceph_token_enc').notNull(),
    /** What Ceph answered at login (for /api/auth/check while Ceph is unreachable). */
    permissions: jsonb('permissions').$type<Record<string, string[]>>().notNull(),
    pwdExpirationDate: bigint('pwd_expiration_date', { mode: 'number' }),
    sso: boolean('sso').notNull(),
    pwdUpdateRequired: boolean('pwd_update_required').notNull(),
    createdAt: tz('created_at').notNull(),
    expiresAt: tz('expires_at').notNull(),
  },
  (t) => [index('native_sessions_expires_idx').on(t.expiresAt), index('native_sessions_created_idx').on(t.createdAt)],
);

/** Failed Ceph-native logins per user and per client address (auth/native-login/limiter.ts). One
 *  row per key, changed under its row lock, so every instance counts against the same limits. */
export const nativeLoginCounters = pgTable('native_login_counters', {
  /** `user:<cluster>/<username>` or `client:<cluster>/<address>`. */
  key: text('key').primaryKey(),
  /** Times (ms) of failures within the window. */
  failures: jsonb('failures').$type<number[]>().notNull().default([]),
  /** Attempts in flight: reservation id -> start (ms). Counted as failures until settled or stale. */
  pending: jsonb('pending').$type<Record<string, number>>().notNull().default({}),
  /** Failures since the last success (users only): Ceph's own counter never decays. */
  consecutive: integer('consecutive').notNull().default(0),
  updatedAt: tz('updated_at').notNull(),
});

// ---- Rate limits (limits/) ----

/** rate-limiter-flexible's RateLimiterDrizzle table: one fixed-window counter per key. */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  points: integer('points').notNull().default(0),
  expire: timestamp('expire', { withTimezone: true, mode: 'date' }),
});

// ---- Audit (audit/) ----
// The log is append-only: an intent row is written (and committed) before forwarding, an outcome row
// after. Both are events of ONE hash chain ordered by `seq`, so editing an outcome is as visible as
// editing an intent. A record whose outcome row never came reads as outcome `unknown`.

export const auditIntents = pgTable(
  'audit_intents',
  {
    /** UUIDv7: time-ordered record id, shared by the outcome row. */
    id: uuid('id').primaryKey(),
    /** Position in the chain (intents and outcomes share one gap-free sequence). */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    requestId: text('request_id').notNull(),
    receivedAt: tz('received_at').notNull(),
    cluster: text('cluster'),
    principalId: text('principal_id'),
    principalName: text('principal_name'),
    principalEmail: text('principal_email'),
    principalGroups: jsonb('principal_groups').$type<string[]>().notNull(),
    authMethod: text('auth_method'),
    apiKeyName: text('api_key_name'),
    clientIp: text('client_ip').notNull(),
    userAgent: text('user_agent'),
    method: text('method').notNull(),
    rawPath: text('raw_path').notNull(),
    routeTemplate: text('route_template'),
    operation: text('operation'),
    pathParams: jsonb('path_params').$type<Record<string, string>>().notNull(),
    /** Pool names named by path parameters or the operation's pool fields (filterable). */
    pools: jsonb('pools').$type<string[]>().notNull(),
    query: jsonb('query').$type<Record<string, string[]>>().notNull(),
    /** Request body with secrets redacted (never the raw body). */
    body: jsonb('body').$type<unknown>(),
    decisionEffect: text('decision_effect'),
    decisionRuleId: text('decision_rule_id'),
    decisionReason: text('decision_reason'),
    policyVersion: text('policy_version'),
    cephAccount: text('ceph_account'),
    decisionShadow: jsonb('decision_shadow').$type<unknown>(),
    /** Set for requests refused before forwarding (denials, auth failures): their final status. */
    finalStatus: integer('final_status'),
    errorCode: text('error_code'),
  },
  (t) => [
    uniqueIndex('audit_intents_seq_uq').on(t.seq),
    index('audit_intents_received_idx').on(t.receivedAt, t.id),
    index('audit_intents_principal_idx').on(t.principalId, t.receivedAt, t.id),
    index('audit_intents_cluster_idx').on(t.cluster, t.receivedAt, t.id),
    index('audit_intents_operation_idx').on(t.operation, t.receivedAt, t.id),
    index('audit_intents_route_idx').on(t.routeTemplate, t.receivedAt, t.id),
    index('audit_intents_method_idx').on(t.method, t.receivedAt, t.id),
    index('audit_intents_decision_idx').on(t.decisionEffect, t.receivedAt, t.id),
    index('audit_intents_groups_gin').using('gin', t.principalGroups.op('jsonb_path_ops')),
    index('audit_intents_pools_gin').using('gin', t.pools.op('jsonb_path_ops')),
    index('audit_intents_params_gin').using('gin', t.pathParams.op('jsonb_path_ops')),
  ],
);

export const auditOutcomes = pgTable(
  'audit_outcomes',
  {
    /** The intent's id. No foreign key on purpose: retention prunes a chain prefix, which may
     *  remove an intent whose (later) outcome event must stay until the prefix passes it. */
    recordId: uuid('record_id').primaryKey(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    forwardedAt: tz('forwarded_at'),
    completedAt: tz('completed_at').notNull(),
    upstreamStatus: integer('upstream_status'),
    status: integer('status').notNull(),
    cephErrorDetail: text('ceph_error_detail'),
    cephErrorCode: text('ceph_error_code'),
    cephTask: text('ceph_task'),
    errorCode: text('error_code'),
  },
  (t) => [uniqueIndex('audit_outcomes_seq_uq').on(t.seq), index('audit_outcomes_status_idx').on(t.status)],
);

/** One row (id = 1): the chain head. Every append moves it from exactly the (seq, hash) it chained
 *  onto, in the same statement as its inserts, which serializes appends across every gateway
 *  instance sharing the database (src/audit/store.ts). */
export const auditChainHead = pgTable(
  'audit_chain_head',
  {
    id: smallint('id').primaryKey(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [check('audit_chain_head_single', sql`${t.id} = 1`)],
);

/** Chain anchors: periodic (optionally Ed25519-signed) checkpoints, and `prune` anchors from which
 *  verification restarts after retention removed a chain prefix. */
export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    kind: text('kind').$type<'checkpoint' | 'prune'>().notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    /** Compact JWS (EdDSA) over {seq, hash, created_at}, or null when no signing key is configured. */
    signature: text('signature'),
  },
  (t) => [index('audit_checkpoints_kind_seq_idx').on(t.kind, t.seq)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type NewApiKeyRow = typeof apiKeys.$inferInsert;
export type SessionRow = typeof sessions.$inferSelect;
export type NativeSessionRow = typeof nativeSessions.$inferSelect;
export type NativeLoginCounterRow = typeof nativeLoginCounters.$inferSelect;
export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect;
