// Shared helpers of the security suite: calls through a full gateway, Ceph-side checks (pools, audit
// rows read back through the audit API as the auditor dave) and the fast-check seed used in CI.

import { request } from 'undici';
import { cephCli } from '../support/ceph-cli.ts';
import type { FullGateway } from '../support/full-gateway.ts';
import { testEnv } from '../support/requirements.ts';

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** Parsed JSON body, or null when the body is not JSON. */
  readonly json: Record<string, unknown> | null;
}

export async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: string | Buffer; headers?: Record<string, string | string[]> } = {},
): Promise<Answer> {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers: {
      ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }),
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...opts.headers,
    },
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
  const text = await res.body.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** Pools as Ceph itself lists them (`ceph osd pool ls`): the ground truth for "nothing reached Ceph". */
export async function cephPools(): Promise<string[]> {
  return (await cephCli(testEnv.cephConf as string, ['osd', 'pool', 'ls'])).split('\n').filter(Boolean);
}

export interface AuditRow {
  readonly request_id: string;
  readonly method: string;
  readonly route: string | null;
  readonly status: number | null;
  readonly upstream_status: number | null;
  readonly error_code?: string | null;
  readonly decision: { effect: string } | null;
  readonly [k: string]: unknown;
}

/** The audit rows of one request, read through the audit API by the auditor (dave). */
export async function auditRowsOf(gw: FullGateway, requestId: string): Promise<AuditRow[]> {
  const dave = await gw.token('dave');
  const page = await call(gw.url, 'GET', `/gateway/v1/audit?request_id=${encodeURIComponent(requestId)}&limit=10`, { token: dave });
  if (page.status !== 200) throw new Error(`audit API answered ${page.status}: ${page.text}`);
  return (page.json as { items: AuditRow[] }).items;
}

/** The request id the gateway gave an answer. */
export function requestIdOf(a: Answer): string {
  const id = (a.json?.request_id as string | undefined) ?? (a.headers['x-request-id'] as string | undefined);
  if (!id) throw new Error(`answer has no request id: ${a.status} ${a.text.slice(0, 200)}`);
  return id;
}

/**
 * fast-check seed: fixed in CI (reproducible), or CEPHGATE_FC_SEED to replay/explore. Every
 * property prints the seed on failure (fast-check's report includes it; the message repeats it).
 */
export const FC_SEED = process.env.CEPHGATE_FC_SEED === undefined ? 20240611 : Number(process.env.CEPHGATE_FC_SEED);
export const fcParams = (numRuns: number) => ({ seed: FC_SEED, numRuns, verbose: 1 as const });
export const unique = () => Math.random().toString(36).slice(2, 8);
