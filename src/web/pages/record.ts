// GET /gateway/audit/record/<id>: one audit record with its place in the hash chain. Same policy
// operation as the list (Gateway.audit.read); an id that is not a record is a 404.

import type { Context } from 'hono';
import { findRecordRows, toRecord } from '../../audit/query.ts';
import { recordPlace } from '../../audit/verify.ts';
import { GatewayError } from '../../core/errors.ts';
import type { AppEnv } from '../env.ts';
import type { PagesDeps } from './deps.ts';
import { formParams, parseViewerQuery } from './filters.ts';
import { reading } from './reading.ts';
import { RecordPage } from './record-view.tsx';
import { page } from './respond.ts';

export function createRecordHandler(deps: PagesDeps) {
  return async function record(c: Context<AppEnv>): Promise<Response> {
    const principal = await deps.authorize(c, 'Gateway.audit.read');
    await deps.audit.flush();
    const rows = await reading(() => findRecordRows(deps.audit.db, c.req.param('id') ?? ''));
    if (rows === null) throw new GatewayError(404, 'not_found', 'No audit record has this id.');
    const place = await reading(() => recordPlace(deps.audit.db, rows.intent, rows.outcome));
    // The list's filter rides along (checked again here) so "back" returns to the same page of results.
    const back = formParams(parseViewerQuery(c.req.query()).form);
    const props = { who: principal.name, record: toRecord(rows.intent, rows.outcome), place, verification: deps.verification.current(), back };
    return page(c, RecordPage(props));
  };
}
