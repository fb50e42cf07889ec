// Maps the pipeline's AuditIntent/AuditOutcome to table rows and rows to the chained event content.
// The same `eventContent` runs at write time and in verify, so a stored row hashes as it was written.

import { namedPools } from '../ceph/arguments.ts';
import type { AuditIntent, AuditOutcome } from '../core/audit.ts';
import type { auditIntents, auditOutcomes } from '../db/schema.ts';
import { type Redactor, storableText } from './redact.ts';

export type IntentRow = typeof auditIntents.$inferSelect;
export type OutcomeRow = typeof auditOutcomes.$inferSelect;
type ChainFields = 'seq' | 'prevHash' | 'hash';
export type IntentDraft = Omit<IntentRow, ChainFields>;
export type OutcomeDraft = Omit<OutcomeRow, ChainFields>;

const nul = (s: string | null | undefined): string | null => (s == null ? null : storableText(s));

/** Every pool the request names, as the policy sees them (ceph/arguments.ts), so a pool filter finds it. */
function poolsOf(intent: AuditIntent, body: unknown): string[] {
  const { pools } = namedPools(intent.route, intent.query, body === null ? { kind: 'none' } : { kind: 'json', value: body });
  return pools.map(storableText).sort();
}

export function intentDraft(intent: AuditIntent, redactor: Redactor): IntentDraft {
  const p = intent.principal;
  const d = intent.decision;
  const body = intent.body === null || intent.body === undefined ? null : redactor.body(intent.body, intent.route?.operation ?? null);
  // Round-trip through JSON so the values equal what jsonb gives back on read (verify recomputes from them).
  const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  return {
    id: intent.id.toLowerCase(), // Postgres prints uuids lower-case; hash what it will give back
    requestId: nul(intent.requestId) ?? '',
    receivedAt: intent.receivedAt,
    cluster: nul(intent.cluster ?? intent.route?.cluster ?? null),
    principalId: nul(p?.id),
    principalName: nul(p?.name),
    principalEmail: nul(p?.email),
    principalGroups: (p?.groups ?? []).map((g) => nul(g) ?? ''),
    authMethod: p?.method ?? null,
    apiKeyName: nul(p?.apiKeyName),
    clientIp: nul(intent.clientIp) ?? '',
    userAgent: nul(intent.userAgent),
    method: intent.method,
    rawPath: nul(intent.rawPath) ?? '',
    routeTemplate: nul(intent.route?.template),
    operation: intent.route?.operation?.id ?? null,
    pathParams: Object.fromEntries(Object.entries(intent.route?.params ?? {}).map(([k, v]) => [nul(k) ?? '', nul(v) ?? ''])),
    pools: poolsOf(intent, body),
    query: redactor.query(intent.query),
    body: json(body),
    decisionEffect: d?.effect ?? null,
    decisionRuleId: nul(d?.ruleId),
    decisionReason: nul(d?.reason),
    policyVersion: nul(d?.policyVersion),
    cephAccount: nul(d?.cephAccount),
    decisionShadow: d?.shadow === undefined ? null : json(d.shadow),
    finalStatus: intent.finalStatus ?? null,
    errorCode: nul(intent.errorCode),
  };
}

export function outcomeDraft(recordId: string, o: AuditOutcome): OutcomeDraft {
  return {
    recordId: recordId.toLowerCase(),
    forwardedAt: o.forwardedAt,
    completedAt: o.completedAt,
    upstreamStatus: o.upstreamStatus,
    status: o.status,
    cephErrorDetail: nul(o.cephErrorDetail),
    cephErrorCode: nul(o.cephErrorCode),
    cephTask: nul(o.cephTask),
    errorCode: nul(o.errorCode),
  };
}

/** What the chain hashes for an event: every column but the hashes, plus the event kind. Postgres
 *  timestamps keep microseconds but JS Dates milliseconds, so both sides agree on ms precision. */
export function eventContent(kind: 'intent', row: Omit<IntentRow, 'prevHash' | 'hash'>): Record<string, unknown>;
export function eventContent(kind: 'outcome', row: Omit<OutcomeRow, 'prevHash' | 'hash'>): Record<string, unknown>;
export function eventContent(kind: 'intent' | 'outcome', row: Record<string, unknown>): Record<string, unknown> {
  const { prevHash: _p, hash: _h, ...rest } = row as Record<string, unknown>;
  return { kind, ...rest };
}
