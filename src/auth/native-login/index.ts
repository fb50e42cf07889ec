// Ceph-native login, assembled: scripts written for the Ceph API log in through the gateway with their Ceph
// password, get a gateway token, and are then authorised, audited and forwarded as that Ceph user.
// build.ts creates one NativeLogin and wires its three parts (local answers, authenticator, upstream credential).

import type { ClusterRuntime, ForwardFn } from '../../ceph/cluster-runtime.ts';
import type { NativeLoginConfig } from '../../config/native-login.ts';
import type { AuditSink } from '../../core/audit.ts';
import type { LocalAnswer } from '../../core/exchange.ts';
import type { Logger } from '../../core/logger.ts';
import type { Database } from '../../db/database.ts';
import { createNativeLoginAnswers } from './answers.ts';
import { createNativeAuth, type NativeAuth } from './authenticator.ts';
import { type CephAuth, createCephAuth } from './ceph-auth.ts';
import { createLoginLimiter, type LoginLimiter } from './limiter.ts';
import { createNativeSessionStore, type NativeSessionStore } from './sessions.ts';

export { type NativeLoginConfig, nativeLoginDefaults, nativeLoginSchema } from '../../config/native-login.ts';
export { nativePrincipalId, type UserCredential } from './authenticator.ts';
export { isNativeToken, NATIVE_TOKEN_PREFIX } from './sessions.ts';

export interface NativeLoginOptions {
  /** Every configured cluster with its `native_login` section (absent = disabled). */
  readonly clusters: readonly { readonly name: string; readonly native_login?: NativeLoginConfig | undefined }[];
  readonly defaultCluster: string;
  /** How long a login body may take to arrive (limits.body_timeout_ms). */
  readonly bodyTimeoutMs: number;
  /** The Ceph upstream's cluster runtimes (active mgr, dispatcher, service accounts). */
  readonly runtime: (cluster: string) => ClusterRuntime | undefined;
  readonly forward: ForwardFn;
  readonly audit: AuditSink;
  readonly log: Logger;
  /** The gateway database: sessions and failure counters are shared through it by every instance. */
  readonly database: Database;
  /** The sessions key (identity.sessions.encryption_key): seals the users' Ceph tokens at rest. */
  readonly sealKey: Buffer;
  readonly now?: () => Date;
  /** For tests: the Ceph auth calls. */
  readonly cephAuth?: CephAuth;
}

export interface NativeLogin extends NativeAuth {
  /** True when some cluster enables native login (else nothing needs wiring). */
  readonly enabled: boolean;
  /** The pipeline's local answers for Auth.create, Auth.logout and Auth.check (core/exchange.ts). */
  readonly answers: ReadonlyMap<string, LocalAnswer>;
  readonly sessions: NativeSessionStore;
  /** One per enabled cluster (counters keyed by user and client address inside). */
  readonly limiters: ReadonlyMap<string, LoginLimiter>;
}

export function createNativeLogin(o: NativeLoginOptions): NativeLogin {
  const now = o.now ?? (() => new Date());
  const clusters = new Map<string, NativeLoginConfig>();
  for (const c of o.clusters) if (c.native_login?.enabled === true) clusters.set(c.name, c.native_login);
  const maxSessions = Math.max(1, ...[...clusters.values()].map((c) => c.max_sessions));
  const sessions = createNativeSessionStore({ db: o.database.db, sealKey: o.sealKey, maxSessions, now: () => now().getTime() });
  const limiters = new Map<string, LoginLimiter>();
  for (const [name, c] of clusters) {
    const policy = {
      maxFailuresPerUser: c.max_failures_per_user,
      maxFailuresPerClient: c.max_failures_per_client,
      windowMs: c.failure_window_seconds * 1000,
      maxConsecutiveFailures: c.max_consecutive_failures,
    };
    limiters.set(name, createLoginLimiter({ database: o.database, cluster: name, policy, now: () => now().getTime() }));
  }
  const auth = createNativeAuth({
    sessions,
    clusters,
    defaultCluster: o.defaultCluster,
    onRevokeError: (err) => o.log.warn({ err }, 'native session revocation not written; it lapses at its expiry'),
  });
  const answers = createNativeLoginAnswers({
    clusters,
    runtime: o.runtime,
    cephAuth: o.cephAuth ?? createCephAuth(o.forward),
    sessions,
    limiters,
    auth,
    audit: o.audit,
    log: o.log,
    now,
    bodyTimeoutMs: o.bodyTimeoutMs,
  });
  return { ...auth, enabled: clusters.size > 0, answers, sessions, limiters };
}
