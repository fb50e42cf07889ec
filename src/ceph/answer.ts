// Reads what Ceph said about a request from its (small) response body, for the audit outcome:
// the error `detail`/`code` of a failure and the task name of a 202 (long-running task).

export interface CephAnswer {
  readonly detail: string | null;
  readonly code: string | null;
  readonly task: string | null;
}

const NONE: CephAnswer = { detail: null, code: null, task: null };

export function cephAnswer(status: number, body: Buffer | null): CephAnswer {
  if (body === null || body.length === 0 || (status < 400 && status !== 202)) return NONE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return NONE;
  }
  if (typeof parsed !== 'object' || parsed === null) return NONE;
  const o = parsed as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 2000) : null);
  if (status === 202) return { detail: null, code: null, task: str(o.name) };
  return { detail: str(o.detail), code: str(o.code), task: null };
}
