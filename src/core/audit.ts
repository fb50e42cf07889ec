// The audit record of a request (intent before forwarding, outcome after) and the sink that keeps it (audit/).

import type { RouteMatch } from './catalogue.ts';
import type { Decision } from './decision.ts';
import type { Principal } from './principal.ts';

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
