// The audit record of an API key created or revoked from the command line, written like the HTTP
// API's (web/apikeys-api.ts through the gateway-operation authoriser): the Gateway.apikey.admin
// operation, committed before the change is made (no record, no change). The command line
// authenticates nobody, so the principal is the operating-system user on this host who ran it.

import { v7 as uuidv7 } from 'uuid';
import { intentOf } from '../audit/intent.ts';
import { createRedactor } from '../audit/redact.ts';
import { createAuditStore } from '../audit/store.ts';
import type { Principal } from '../core/principal.ts';
import type { RequestState } from '../core/request-state.ts';
import type { Database } from '../db/database.ts';
import { parseRequestTarget } from '../intake/request-target.ts';
import { GATEWAY_OPERATIONS } from '../policy/gateway-operations.ts';
import { osUser } from './common.ts';

export interface KeyChange {
  readonly action: 'create' | 'revoke';
  /** The key's id when known (revoke), else its name. */
  readonly key: string;
  /** What the record keeps of the change (never the key): name, groups, expiry. */
  readonly details: Record<string, unknown>;
  /** The cluster records are filed under (the default cluster, as the HTTP API does). */
  readonly cluster: string;
  readonly redactExtraPaths?: readonly string[];
}

function principalOf(now: Date): Principal {
  const user = osUser();
  return {
    id: user.id,
    name: user.name,
    email: null,
    groups: [],
    // core/principal.ts has no auth method for the command line; the audit column is text and no
    // policy ever decides on this principal.
    method: 'cli' as unknown as Principal['method'],
    authenticatedAt: now,
    apiKeyName: null,
    claims: {},
  };
}

export interface KeyChangeRecord {
  /** Who the record names (`os:<user>@<host>`): also the key's created_by. */
  readonly principalId: string;
  /** Adds the outcome: the status the HTTP API would have answered (201, 204, 400, 409) and the error code, if any. */
  done(status: number, errorCode?: string): Promise<void>;
}

/**
 * Commits the intent of `change` before it is made; rejects (and the caller makes no change) when the
 * audit log cannot take it. The outcome follows with done(), as a forwarded request's does.
 */
export async function beginKeyChange(database: Database, change: KeyChange, now = new Date()): Promise<KeyChangeRecord> {
  const op = GATEWAY_OPERATIONS['Gateway.apikey.admin'];
  const path = change.action === 'create' ? op.template : `${op.template}/${encodeURIComponent(change.key)}`;
  const state: RequestState = {
    requestId: `cli-${uuidv7()}`,
    receivedAt: now,
    target: parseRequestTarget(path),
    headers: new Map([['user-agent', [`cephgate-cli apikey ${change.action}`]]]),
    clientIp: 'local',
    fromTrustedProxy: false,
    principal: principalOf(now),
    route: { cluster: change.cluster, operation: op, template: op.template, params: {} },
  };
  const id = uuidv7();
  const store = createAuditStore(database, { redactor: createRedactor({ extraPaths: [...(change.redactExtraPaths ?? [])] }), ownsDatabase: false });
  try {
    await store.recordIntent(intentOf(state, { id, method: change.action === 'create' ? 'POST' : 'DELETE', body: change.details }));
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    principalId: state.principal?.id ?? 'cli',
    async done(status, errorCode) {
      try {
        const completedAt = new Date();
        await store.recordOutcome(id, {
          forwardedAt: null,
          completedAt,
          upstreamStatus: null,
          status,
          cephErrorDetail: null,
          cephErrorCode: null,
          cephTask: null,
          errorCode: errorCode ?? null,
        });
      } finally {
        await store.close();
      }
    },
  };
}
