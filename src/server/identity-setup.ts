// The identity side of the composition root: the authenticator chain (bearer JWTs from trusted
// issuers, Ceph-native gateway tokens, API keys, browser sessions) and the parts of the logins that
// are not authenticators (the browser login routes, the Ceph-native local answers).

import { randomBytes } from 'node:crypto';
import { createApiKeyAuthenticator } from '../auth/api-keys.ts';
import { type ApiKeyStore, createApiKeyStore } from '../auth/apikey-store.ts';
import { createBearerAuthenticator } from '../auth/bearer.ts';
import { type BrowserLogin, createBrowserLogin } from '../auth/browser/login.ts';
import { parseSealKey } from '../auth/browser/seal.ts';
import { createBrowserSessionStore } from '../auth/browser/session-store.ts';
import { createAuthenticatorChain, type DetectingAuthenticator } from '../auth/chain.ts';
import { createNativeLogin, type NativeLogin } from '../auth/native-login/index.ts';
import type { CephUpstream } from '../ceph/upstream.ts';
import type { Config } from '../config/schema.ts';
import { resolveSecret, secretRefOf } from '../config/secrets.ts';
import type { AuditSink } from '../core/audit.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { AuthInput, Principal } from '../core/principal.ts';
import type { Database } from '../db/database.ts';
import { forward } from '../proxy/forward.ts';
import { StartupError } from './startup-error.ts';

export interface Identity {
  readonly authenticate: (input: AuthInput) => Promise<Principal>;
  readonly native: NativeLogin;
  readonly browser: BrowserLogin | null;
  readonly apiKeys: ApiKeyStore;
}

export interface IdentityDeps {
  readonly database: Database;
  readonly audit: AuditSink;
  readonly upstream: CephUpstream;
  readonly defaultCluster: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now: () => Date;
}

export function setUpIdentity(config: Config, d: IdentityDeps): Identity {
  const sealKey = sessionsKey(config, d.log);
  // Ceph-native `POST /api/auth` for existing Ceph clients, on clusters that enable it.
  const native = createNativeLogin({
    clusters: config.ceph.clusters,
    defaultCluster: d.defaultCluster,
    bodyTimeoutMs: config.limits.body_timeout_ms,
    runtime: (n) => d.upstream.cluster(n),
    forward,
    audit: d.audit,
    log: d.log,
    database: d.database,
    sealKey,
    now: d.now,
  });
  const bearer = createBearerAuthenticator(config.identity, { onJwksFetch: (issuer) => d.metrics.jwksRefreshes.inc({ issuer }) });
  const authenticators: DetectingAuthenticator[] = native.enabled ? [native.authenticator, native.excludingNativeTokens(bearer)] : [bearer];
  const apiKeys = createApiKeyStore(d.database.db);
  if (config.identity.api_keys.enabled) {
    authenticators.push(
      createApiKeyAuthenticator(apiKeys, config.identity.api_keys, { onTouchError: (err) => d.log.warn({ err }, 'API key last-used write failed') }),
    );
  }
  const browser = browserLogin(config, d.database, sealKey);
  if (browser) authenticators.push(browser.authenticator);
  return { authenticate: createAuthenticatorChain(authenticators), native, browser, apiKeys };
}

/**
 * The sessions key (identity.sessions.encryption_key): it seals browser refresh tokens and the Ceph tokens
 * of native logins at rest. Without one (allowed when browser login is off), a random key of this process
 * seals native sessions: their Ceph tokens are still never stored in clear, but only this instance can open
 * them, and none survives a restart. Several instances need the shared key.
 */
function sessionsKey(config: Config, log: Logger): Buffer {
  const s = config.identity.sessions;
  const configured = s.encryption_key !== undefined || s.encryption_key_env !== undefined || s.encryption_key_file !== undefined;
  if (configured) return parseSealKey(resolveSecret(secretRefOf(s, 'encryption_key'), 'identity.sessions.encryption_key'));
  if (config.ceph.clusters.some((c) => c.native_login?.enabled === true)) {
    log.warn(
      {},
      'identity.sessions.encryption_key is not set: Ceph-native login tokens work only on this instance and end at its restart (docs/deployment.md, "Several instances")',
    );
  }
  return randomBytes(32);
}

/** Browser login (authorization code + PKCE) and its session authenticator, when configured. */
function browserLogin(config: Config, database: Database, encryptionKey: Buffer): BrowserLogin | null {
  const bl = config.identity.browser_login;
  if (!bl?.enabled) return null;
  if (!config.server.public_url) throw new StartupError('identity.browser_login needs server.public_url (the URL browsers use)');
  const issuer = config.identity.issuers.find((i) => i.name === bl.issuer);
  if (!issuer) throw new StartupError(`identity.browser_login.issuer: no issuer named ${bl.issuer}`);
  const s = config.identity.sessions;
  return createBrowserLogin({
    publicUrl: config.server.public_url,
    issuer,
    login: bl,
    sessions: s,
    clientSecret: resolveSecret(secretRefOf(bl, 'client_secret'), 'identity.browser_login.client_secret'),
    encryptionKey,
    store: createBrowserSessionStore(database.db),
  });
}
