// The authenticator for gateway tokens issued by a Ceph-native login (`Bearer cgn_...`), and the hook the
// Ceph upstream calls to forward such a principal's requests with that user's own Ceph token.

import type { NativeLoginConfig } from '../../config/native-login.ts';
import { GatewayError } from '../../core/errors.ts';
import type { AuthInput, AuthResult, Principal } from '../../core/principal.ts';
import { challenge, type DetectingAuthenticator } from '../chain.ts';
import { readAuthorization } from '../credentials.ts';
import { isNativeToken, type NativeSession, type NativeSessionStore } from './sessions.ts';

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
}

function presentedNativeToken(input: AuthInput): string | null {
  const auth = readAuthorization(input);
  return auth.kind === 'bearer' && isNativeToken(auth.token) ? auth.token : null;
}

export function createNativeAuth(deps: NativeAuthDeps): NativeAuth {
  // Which session a principal object stands for: nothing about the session leaves this module.
  const sessionOf = new WeakMap<Principal, string>();
  // One principal object per session, so repeated requests hand the pipeline the same object.
  const principals = new Map<string, { principal: Principal; groupsKey: string }>();

  function principalOf(s: NativeSession): Principal {
    const cfg = deps.clusters.get(s.cluster);
    const groups = cfg?.groups[s.username] ?? cfg?.default_groups ?? ['ceph-native'];
    const groupsKey = groups.join('\u0000');
    const cached = principals.get(s.id);
    if (cached !== undefined && cached.groupsKey === groupsKey) return cached.principal;
    // Entries of ended sessions linger until this bound; a fresh object per session is cheap.
    if (principals.size > 10_000) principals.clear();
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
    principals.set(s.id, { principal, groupsKey });
    sessionOf.set(principal, s.id);
    return principal;
  }

  const invalid = (detail: string): AuthResult => ({ kind: 'fail', code: 'invalid_token', detail });

  const authenticator: DetectingAuthenticator = {
    name: 'ceph_native',
    detects: (input) => presentedNativeToken(input) !== null,
    async authenticate(input) {
      const token = presentedNativeToken(input);
      if (token === null) return { kind: 'skip' };
      const s = deps.sessions.get(token);
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
      const id = sessionOf.get(principal);
      const s = id === undefined ? null : deps.sessions.byId(id);
      if (s === null) throw new GatewayError(401, 'invalid_token', 'The Ceph-native session has ended; log in again.', { headers: challenge('invalid_token') });
      if (s.cluster !== cluster)
        throw new GatewayError(401, 'invalid_token', 'The access token was issued for another cluster.', { headers: challenge('invalid_token') });
      return { token: s.cephToken, rejected: () => deps.sessions.revokeId(s.id) };
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
