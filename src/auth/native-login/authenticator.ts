// The authenticator for gateway tokens issued by a Ceph-native login (`Bearer cgn_...`), and the hook the
// Ceph upstream calls to forward such a principal's requests with that user's own Ceph token.

import type { NativeLoginConfig } from '../../config/native-login.ts';
import { GatewayError } from '../../core/errors.ts';
import type { AuthInput, AuthResult, Principal } from '../../core/principal.ts';
import { challenge, type DetectingAuthenticator } from '../chain.ts';
import { readAuthorization } from '../credentials.ts';
import { isNativeToken, type NativeSession, type NativeSessionStore, sessionKeyOf } from './sessions.ts';

/** The principal id of a Ceph user logged in through the gateway. */
export const nativePrincipalId = (cluster: string, username: string): string => `ceph:${cluster}/${username}`;

/** A Ceph user's own credential, used instead of a service account. */
export interface UserCredential {
  readonly token: string;
  /** Ceph answered 401 to it (expired, logged out, user changed): the session ends, there is no password to log in again. */
  rejected(): void;
}

export interface NativeAuth {
  readonly authenticator: DetectingAuthenticator;
  /**
   * The Ceph credential of a `ceph_native` principal for a request to `cluster`. Throws 401 invalid_token when
   * the session ended since authentication or the cluster is not the one the user logged in to: such a request
   * must never fall back to a service account.
   */
  credentialFor(principal: Principal, cluster: string): UserCredential;
  /** Wraps another bearer authenticator so it neither detects nor judges gateway tokens (one credential per request). */
  excludingNativeTokens(a: DetectingAuthenticator): DetectingAuthenticator;
}

export interface NativeAuthDeps {
  readonly sessions: NativeSessionStore;
  /** Enabled clusters and their configuration (groups mapping). */
  readonly clusters: ReadonlyMap<string, NativeLoginConfig>;
  readonly defaultCluster: string;
  /** A revocation could not be written (the session then lapses at its expiry or fails at Ceph again). */
  readonly onRevokeError?: (err: unknown) => void;
}

function presentedNativeToken(input: AuthInput): string | null {
  const auth = readAuthorization(input);
  return auth.kind === 'bearer' && isNativeToken(auth.token) ? auth.token : null;
}

export function createNativeAuth(deps: NativeAuthDeps): NativeAuth {
  // The session a principal was authenticated with, read from the shared store by this very request:
  // the upstream forwards with its Ceph token, and nothing about the session leaves this module.
  const sessionOf = new WeakMap<Principal, { readonly session: NativeSession; revoked: boolean }>();
  // Revocations this instance started and has not finished writing: a request with that token waits for
  // them, so "Ceph refused the token" ends the session here at once, not one database round trip later.
  const revoking = new Map<string, Promise<void>>();

  function principalOf(s: NativeSession): Principal {
    const cfg = deps.clusters.get(s.cluster);
    const groups = cfg?.groups[s.username] ?? cfg?.default_groups ?? ['ceph-native'];
    const principal: Principal = {
      id: nativePrincipalId(s.cluster, s.username),
      name: s.username,
      email: null,
      groups: [...groups],
      method: 'ceph_native',
      authenticatedAt: new Date(s.createdAt),
      apiKeyName: null,
      claims: {},
      cephUser: s.username,
    };
    sessionOf.set(principal, { session: s, revoked: false });
    return principal;
  }

  function revoke(key: string): void {
    const p = deps.sessions
      .revokeKey(key)
      .catch((err: unknown) => deps.onRevokeError?.(err))
      .finally(() => revoking.delete(key));
    revoking.set(key, p);
  }

  const invalid = (detail: string): AuthResult => ({ kind: 'fail', code: 'invalid_token', detail });

  const authenticator: DetectingAuthenticator = {
    name: 'ceph_native',
    detects: (input) => presentedNativeToken(input) !== null,
    async authenticate(input) {
      const token = presentedNativeToken(input);
      if (token === null) return { kind: 'skip' };
      if (revoking.size > 0) await revoking.get(sessionKeyOf(token));
      const s = await deps.sessions.get(token);
      if (s === null) return invalid('The access token is invalid.');
      // A token names one cluster: Ceph tokens are signed per cluster, and a service account must never
      // stand in for a user on another one.
      if ((input.target.cluster ?? deps.defaultCluster) !== s.cluster) return invalid('The access token was issued for another cluster.');
      return { kind: 'ok', principal: principalOf(s) };
    },
  };

  return {
    authenticator,
    credentialFor(principal, cluster) {
      const held = sessionOf.get(principal);
      if (held === undefined || held.revoked)
        throw new GatewayError(401, 'invalid_token', 'The Ceph-native session has ended; log in again.', { headers: challenge('invalid_token') });
      const s = held.session;
      if (s.cluster !== cluster)
        throw new GatewayError(401, 'invalid_token', 'The access token was issued for another cluster.', { headers: challenge('invalid_token') });
      return {
        token: s.cephToken,
        rejected: () => {
          held.revoked = true;
          revoke(s.key);
        },
      };
    },
    excludingNativeTokens(a) {
      return {
        name: a.name,
        detects: (input) => presentedNativeToken(input) === null && a.detects?.(input) === true,
        authenticate: async (input) => (presentedNativeToken(input) === null ? a.authenticate(input) : { kind: 'skip' }),
      };
    },
  };
}
