// The OpenAPI 3.1 document of the gateway's own endpoints under /gateway (APIs, login, pages), served
// at /gateway/openapi.json. Written by hand next to the routes it describes; test/unit/openapi.test.ts
// keeps it true: every registered /gateway route is described, nothing described is missing, and the
// document validates. The Ceph API itself is described by each dashboard's own OpenAPI document.

import type { GatewayOperationId } from '../core/gateway-operations.ts';
import { AUDIT_FILTER_PARAMETERS, SCHEMAS, SECURITY_SCHEMES } from './openapi-schemas.ts';

type Json = Record<string, unknown>;

const json = (schema: Json) => ({ 'application/json': { schema } });
const ref = (name: keyof typeof SCHEMAS) => ({ $ref: `#/components/schemas/${name}` });
const html = { 'text/html': { schema: { type: 'string' } } };
const query = (name: string, description: string, schema: Json, required = false) => ({ name, in: 'query', required, description, schema });

const ERRORS: Record<number, string> = {
  400: 'Bad request (`bad_request`, `invalid_request`, `multiple_credentials`)',
  401: 'No valid credential (`unauthenticated`, `invalid_token`); a browser asking for HTML gets the sign-in page',
  403: 'Refused by the policy (`policy_denied`) or a failed CSRF check (`csrf_failed`); recorded in the audit log',
  404: 'No such thing (`not_found`)',
  409: 'Conflict (the name is taken)',
  413: 'Body too large (`body_too_large`)',
  415: 'Unsupported media type (`unsupported_media_type`)',
  503: 'The audit log cannot be read or written right now (`audit_unavailable`, with Retry-After)',
};

/** Error responses: Ceph's JSON shape, and for pages also the HTML page a browser gets. */
function errors(statuses: readonly number[], page = false): Json {
  return Object.fromEntries(statuses.map((s) => [String(s), { description: ERRORS[s] ?? 'Error', content: { ...json(ref('Error')), ...(page ? html : {}) } }]));
}

const ANY_CREDENTIAL = [{ bearer: [] }, { apiKey: [] }, { session: [] }];

interface Op {
  readonly id: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: 'pages' | 'audit' | 'identity' | 'policy' | 'api keys' | 'meta';
  /** The policy operation that authorises it (Gateway.*), when one does. */
  readonly policy?: GatewayOperationId;
  /** false: no credential needed. */
  readonly auth?: boolean;
  readonly parameters?: readonly Json[];
  readonly body?: Json;
  readonly responses: Json;
}

function op(o: Op): Json {
  return {
    operationId: o.id,
    summary: o.summary,
    ...(o.description === undefined ? {} : { description: o.description }),
    tags: [o.tag],
    security: o.auth === false ? [] : ANY_CREDENTIAL,
    ...(o.policy === undefined ? {} : { 'x-cephgate-policy-operation': o.policy }),
    ...(o.parameters === undefined ? {} : { parameters: o.parameters }),
    ...(o.body === undefined ? {} : { requestBody: { required: true, content: json(o.body) } }),
    responses: o.responses,
  };
}

const AUDIT_READ = 'Gateway.audit.read' as const;
const pageOk = (description: string) => ({ '200': { description, content: html } });
const redirect = (description: string) => ({ description, headers: { Location: { schema: { type: 'string' } } } });

function apiPaths(): Json {
  return {
    '/gateway/whoami': {
      get: op({
        id: 'whoami',
        summary: 'The calling principal',
        tag: 'identity',
        responses: { '200': { description: 'Who you are', content: json(ref('Whoami')) }, ...errors([400, 401]) },
      }),
    },
    '/gateway/v1/audit': {
      get: op({
        id: 'auditQuery',
        summary: 'One page of audit records, newest first',
        description: 'Keyset pagination on (received_at, id): pass `next` back as `cursor`.',
        tag: 'audit',
        policy: AUDIT_READ,
        parameters: [
          ...AUDIT_FILTER_PARAMETERS,
          query('limit', 'page size', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
          query('cursor', 'the `next` of the previous page', { type: 'string' }),
          query('order', 'desc (newest first) or asc', { enum: ['asc', 'desc'], default: 'desc' }),
        ],
        responses: { '200': { description: 'A page', content: json(ref('AuditPage')) }, ...errors([400, 401, 403, 503]) },
      }),
    },
    '/gateway/v1/audit/export': {
      get: op({
        id: 'auditExport',
        summary: 'Every matching audit record, oldest first, streamed',
        description: 'CSV cells that a spreadsheet would run as a formula are prefixed with an apostrophe.',
        tag: 'audit',
        policy: AUDIT_READ,
        parameters: [...AUDIT_FILTER_PARAMETERS, query('format', 'ndjson or csv', { enum: ['ndjson', 'csv'], default: 'ndjson' })],
        responses: {
          '200': {
            description: 'The records (Content-Disposition: attachment)',
            content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } },
          },
          ...errors([400, 401, 403, 503]),
        },
      }),
    },
    '/gateway/v1/apikeys': {
      get: op({
        id: 'apiKeyList',
        summary: 'The API keys (never their secrets)',
        tag: 'api keys',
        policy: 'Gateway.apikey.admin',
        responses: {
          '200': { description: 'The keys', content: json({ type: 'object', properties: { keys: { type: 'array', items: ref('ApiKey') } } }) },
          ...errors([401, 403]),
        },
      }),
      post: op({
        id: 'apiKeyCreate',
        summary: 'Create an API key; the key is in this answer only',
        tag: 'api keys',
        policy: 'Gateway.apikey.admin',
        body: ref('ApiKeyCreate'),
        responses: {
          '201': {
            description: 'Created',
            content: json({ allOf: [ref('ApiKey'), { type: 'object', required: ['key'], properties: { key: { type: 'string' } } }] }),
          },
          ...errors([400, 401, 403, 409, 415, 503]),
        },
      }),
    },
    '/gateway/v1/apikeys/{idOrName}': {
      delete: op({
        id: 'apiKeyRevoke',
        summary: 'Revoke an API key',
        tag: 'api keys',
        policy: 'Gateway.apikey.admin',
        parameters: [{ name: 'idOrName', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '204': { description: 'Revoked' }, ...errors([401, 403, 404, 503]) },
      }),
    },
    '/gateway/v1/explain': {
      post: op({
        id: 'explain',
        summary: 'Which rules match a request and why',
        tag: 'policy',
        policy: 'Gateway.explain',
        body: ref('ExplainRequest'),
        responses: { '200': { description: 'The decision and every rule considered', content: json(ref('Explanation')) }, ...errors([400, 401, 403]) },
      }),
    },
    '/gateway/openapi.json': {
      get: op({
        id: 'openapi',
        summary: 'This document',
        tag: 'meta',
        auth: false,
        responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
      }),
    },
  };
}

function loginPaths(): Json {
  const rd = query('rd', 'a path of this gateway to return to', { type: 'string' });
  const logout = (id: string) =>
    op({
      id,
      summary: 'End the browser session (and the IdP session when it has an end-session endpoint)',
      tag: 'identity',
      auth: false,
      parameters: [rd],
      responses: { '303': redirect('To the IdP logout or `rd`'), ...errors([400, 403]) },
    });
  return {
    '/gateway/login': {
      get: op({
        id: 'login',
        summary: 'Start a browser login (authorization code + PKCE)',
        tag: 'identity',
        auth: false,
        parameters: [rd],
        responses: { '303': redirect('To the identity provider'), ...errors([400]) },
      }),
    },
    '/gateway/callback': {
      get: op({
        id: 'loginCallback',
        summary: "The identity provider's redirect back; starts the session",
        tag: 'identity',
        auth: false,
        parameters: [query('code', 'authorization code', { type: 'string' }), query('state', 'login state', { type: 'string' })],
        responses: { '303': redirect('To `rd`, with the session cookie set'), ...errors([400, 401]) },
      }),
    },
    '/gateway/logout': { get: logout('logout'), post: logout('logoutPost') },
  };
}

const landing = (id: string) =>
  op({
    id,
    summary: 'Start page: who you are, what you may do, where to go',
    description: 'Without a valid credential a browser gets the "Sign in with <IdP>" page (401). The same page is served at /gateway and /gateway/.',
    tag: 'pages',
    responses: { ...pageOk('The start page'), '401': { description: 'The sign-in page', content: { ...html, ...json(ref('Error')) } }, ...errors([400]) },
  });

function pagePaths(): Json {
  const viewerParams = [
    ...AUDIT_FILTER_PARAMETERS.filter((p) => !['route', 'param'].includes(p.name)).map((p) =>
      p.name === 'from' || p.name === 'to' ? { ...p, description: `${p.description}; a datetime-local value is UTC`, schema: { type: 'string' } } : p,
    ),
    query('cursor', 'the page after this cursor', { type: 'string' }),
  ];
  return {
    '/gateway': { get: landing('landingPage') },
    '/gateway/': { get: landing('landingPageSlash') },
    '/gateway/audit': {
      get: op({
        id: 'auditViewer',
        summary: 'Audit viewer: filtered records, newest first',
        tag: 'pages',
        policy: AUDIT_READ,
        parameters: viewerParams,
        responses: { ...pageOk('The list'), ...errors([400, 401, 403, 503], true) },
      }),
    },
    '/gateway/audit/record/{id}': {
      get: op({
        id: 'auditRecordPage',
        summary: 'One audit record with its place in the hash chain',
        tag: 'pages',
        policy: AUDIT_READ,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }, ...viewerParams],
        responses: { ...pageOk('The record'), ...errors([401, 403, 404, 503], true) },
      }),
    },
    '/gateway/audit/summary': {
      get: op({
        id: 'auditSummaryPage',
        summary: 'Changes and denials per UTC day, per person or per pool',
        tag: 'pages',
        policy: AUDIT_READ,
        parameters: [
          query('from', 'first UTC day', { type: 'string', format: 'date' }),
          query('to', 'last UTC day (included)', { type: 'string', format: 'date' }),
          query('by', 'principal or pool', { enum: ['principal', 'pool'], default: 'principal' }),
          query('group', 'only principals in this group', { type: 'string' }),
          query('cluster', 'only this cluster', { type: 'string' }),
        ],
        responses: { ...pageOk('The summary'), ...errors([400, 401, 403, 503], true) },
      }),
    },
    '/gateway/audit/verify': {
      get: op({
        id: 'auditChainPage',
        summary: "The hash chain's head, checkpoint and last verification",
        tag: 'pages',
        policy: AUDIT_READ,
        responses: { ...pageOk('The chain page'), ...errors([401, 403, 503], true) },
      }),
      post: op({
        id: 'auditVerifyStart',
        summary: 'Start verifying the whole chain (one run at a time)',
        description: 'A browser session sends the form field `csrf_token` (or the X-CSRF-Token header). Recorded in the audit log.',
        tag: 'pages',
        policy: AUDIT_READ,
        responses: { '303': redirect('To /gateway/audit/verify'), ...errors([401, 403, 413, 415, 503], true) },
      }),
    },
  };
}

export interface OpenApiOptions {
  /** Browser login is configured (the login, callback and logout routes exist). */
  readonly browserLogin: boolean;
  readonly version?: string;
}

export function gatewayOpenApi(opts: OpenApiOptions): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'cephgate gateway API',
      version: opts.version ?? '0.1.0',
      description:
        "The gateway's own endpoints: identity, the audit log, policy explanations, API keys and the pages for people. " +
        "The Ceph API (/api/...) is served through the gateway as each Ceph release describes it. Every error is JSON in Ceph's shape with a stable `code`.",
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: ['pages', 'audit', 'identity', 'policy', 'api keys', 'meta'].map((name) => ({ name })),
    paths: { ...pagePaths(), ...apiPaths(), ...(opts.browserLogin ? loginPaths() : {}) },
    components: { schemas: SCHEMAS, securitySchemes: SECURITY_SCHEMES },
  };
}
