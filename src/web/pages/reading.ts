// Reads of the audit database for the pages: a read that fails is the store being unavailable (503
// audit_unavailable with Retry-After, as the audit API answers), never a 500 with a database error.

import { auditUnavailable, GatewayError } from '../../core/errors.ts';

export async function reading<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw err instanceof GatewayError ? err : auditUnavailable('The audit log cannot be read right now.', err);
  }
}
