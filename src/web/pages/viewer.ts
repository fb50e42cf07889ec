// GET /gateway/audit: the audit viewer's list. Authorised and recorded exactly as the audit API
// (Gateway.audit.read through the same authoriser), read with the API's own query and cursor.

import type { Context } from 'hono';
import { queryAudit } from '../../audit/query.ts';
import type { AppEnv } from '../env.ts';
import type { PagesDeps } from './deps.ts';
import { apiParams, parseViewerQuery } from './filters.ts';
import { reading } from './reading.ts';
import { page } from './respond.ts';
import { ViewerPage } from './viewer-view.tsx';

/** Rows per page: a screenful that still renders in a few milliseconds. */
export const VIEWER_PAGE_SIZE = 50;

export function createViewerHandler(deps: PagesDeps) {
  return async function viewer(c: Context<AppEnv>): Promise<Response> {
    const principal = await deps.authorize(c, 'Gateway.audit.read');
    const query = parseViewerQuery(c.req.query());
    const bad = Object.keys(query.problems).length > 0;
    let items = null;
    let next = null;
    if (!bad) {
      await deps.audit.flush();
      const result = await reading(() =>
        queryAudit(deps.audit.db, { ...query.filter, limit: VIEWER_PAGE_SIZE, ...(query.cursor === null ? {} : { cursor: query.cursor }) }),
      );
      items = result.items;
      next = result.next;
    }
    const props = { who: principal.name, query, items, next, apiQuery: apiParams(query).toString(), pageSize: VIEWER_PAGE_SIZE };
    return page(c, ViewerPage(props), bad ? 400 : 200);
  };
}
