// What the pages need from the rest of the gateway, injected by web/gateway-routes.ts: the same
// authoriser and authenticator as the gateway's APIs, the policy set, the audit database.

import type { KeyObject } from 'node:crypto';
import type { Context } from 'hono';
import type { ApiKeyStore } from '../../auth/apikey-store.ts';
import type { GatewayOperationId } from '../../core/gateway-operations.ts';
import type { AuthInput, Principal } from '../../core/principal.ts';
import type { Db } from '../../db/database.ts';
import type { PolicyManager } from '../../policy/manager.ts';
import type { AppEnv } from '../env.ts';
import type { SessionView } from './session-view.ts';
import type { Verification } from './verification.ts';

/** Authenticates, decides the gateway operation and records a refusal (pipeline/gateway-operations.ts). */
export type PageAuthorizer = (c: Context<AppEnv>, op: GatewayOperationId) => Promise<Principal>;

/** Settings of the pages that come from configuration (all optional: the pages work without them). */
export interface PagesOptions {
  /** The name on the "Sign in with ..." button (default: "your identity provider"). */
  readonly idpName?: string;
  /** Where people find the Ceph Dashboard (a link on the start page); none when unset. */
  readonly dashboardUrl?: string;
  /** The audit signing key (public or private PEM key object): the chain page then checks checkpoint signatures. */
  readonly checkpointKey?: KeyObject;
}

export interface PagesDeps {
  readonly authorize: PageAuthorizer;
  /** The authenticator chain, without any recording: the start page only shows who you are. */
  readonly authenticate: (input: AuthInput) => Promise<Principal>;
  readonly policies: PolicyManager;
  /** `flush` first, so a page shows the outcome of a call this gateway has just answered. */
  readonly audit: { readonly db: Db; flush(): Promise<void> };
  readonly apiKeys: ApiKeyStore;
  /** The cluster a request without a /clusters/ prefix goes to (gateway operations are decided there). */
  readonly defaultCluster: string;
  /** Browser login is configured (sign-in links go to /gateway/login). */
  readonly browserLogin: boolean;
  readonly session: SessionView;
  readonly verification: Verification;
  readonly options: PagesOptions;
  readonly now: () => Date;
}
