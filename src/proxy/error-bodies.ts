// Ceph's error bodies on their way to the client: they carry Ceph's own request id
// (`{"status", "detail", "request_id"}`) or none (`{"detail", "code", "component"}`). Every answer
// names the gateway's request id, the one in its logs and audit record; Ceph's stays alongside.

/** The body with the gateway's `request_id` (Ceph's as `ceph_request_id`); a body that is not a JSON object is returned as it is. */
export function withGatewayRequestId(body: Buffer, requestId: string): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return body;
  const o = parsed as Record<string, unknown>;
  const cephId = o.request_id;
  o.request_id = requestId;
  if (cephId !== undefined && cephId !== requestId) o.ceph_request_id = cephId;
  return Buffer.from(JSON.stringify(o));
}
