// The reusable parts of the gateway's OpenAPI 3.1 document: the shapes its endpoints answer with
// (JSON Schema 2020-12, as OpenAPI 3.1 uses it), the audit filter parameters, the security schemes.
// They describe what audit/query.ts, auth/api-keys.ts, web/explain.ts and core/errors.ts produce.

const str = { type: 'string' } as const;
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const time = { type: 'string', format: 'date-time' } as const;
const strings = { type: 'array', items: str } as const;

export const SCHEMAS = {
  Error: {
    type: 'object',
    description: "Every refusal, in Ceph's own error shape plus a stable code (core/errors.ts).",
    required: ['status', 'detail', 'request_id', 'code'],
    properties: {
      status: { ...str, examples: ['403 Forbidden'] },
      detail: str,
      request_id: str,
      code: { ...str, examples: ['policy_denied', 'unauthenticated', 'bad_request', 'audit_unavailable'] },
      rule: { ...str, description: 'The deny rule, when a rule decided.' },
      retry_after: { type: 'integer' },
    },
    additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
  },
  Whoami: {
    type: 'object',
    required: ['id', 'name', 'groups', 'method', 'authenticated_at'],
    properties: {
      id: { ...str, description: '`<issuer>#<subject>`, `apikey:<id>` or `ceph:<cluster>/<user>`.' },
      name: str,
      email: nullable('string'),
      groups: strings,
      method: { enum: ['oidc_bearer', 'session', 'api_key', 'ceph_native'] },
      api_key_name: nullable('string'),
      authenticated_at: time,
      csrf_token: { ...str, description: 'Browser sessions only: send it as X-CSRF-Token on state-changing requests.' },
    },
  },
  AuditRecord: {
    type: 'object',
    description: 'One audit record: the intent and, when there is one, its outcome (audit/query.ts).',
    required: ['id', 'seq', 'hash', 'request_id', 'received_at', 'method', 'raw_path', 'pools', 'outcome'],
    properties: {
      id: { ...str, format: 'uuid' },
      seq: { type: 'integer' },
      hash: str,
      request_id: str,
      received_at: time,
      forwarded_at: nullable('string', { format: 'date-time' }),
      completed_at: nullable('string', { format: 'date-time' }),
      cluster: nullable('string'),
      principal: {
        type: ['object', 'null'],
        properties: {
          id: str,
          name: nullable('string'),
          email: nullable('string'),
          groups: strings,
          auth_method: nullable('string'),
          api_key_name: nullable('string'),
        },
      },
      client_ip: str,
      user_agent: nullable('string'),
      method: str,
      raw_path: str,
      route: nullable('string'),
      operation: nullable('string'),
      path_params: { type: 'object', additionalProperties: str },
      pools: strings,
      query: { type: 'object', additionalProperties: strings },
      body: { description: 'The request body as recorded, secrets redacted.' },
      decision: {
        type: ['object', 'null'],
        properties: {
          effect: { enum: ['allow', 'deny'] },
          rule_id: nullable('string'),
          reason: nullable('string'),
          policy_version: nullable('string'),
          ceph_account: nullable('string'),
          shadow: { description: 'Shadow rules that matched: [{ruleId, effect}].' },
        },
      },
      outcome: { enum: ['complete', 'refused', 'unknown'] },
      status: nullable('integer'),
      upstream_status: nullable('integer'),
      ceph_error: { type: ['object', 'null'], properties: { detail: nullable('string'), code: nullable('string') } },
      ceph_task: nullable('string'),
      error_code: nullable('string'),
      duration_ms: { type: 'object', properties: { total: nullable('integer'), upstream: nullable('integer') } },
      outcome_seq: nullable('integer'),
      outcome_hash: nullable('string'),
    },
  },
  AuditPage: {
    type: 'object',
    required: ['items', 'next'],
    properties: { items: { type: 'array', items: { $ref: '#/components/schemas/AuditRecord' } }, next: nullable('string') },
  },
  ApiKey: {
    type: 'object',
    required: ['id', 'name', 'groups', 'createdAt', 'state'],
    properties: {
      id: str,
      name: str,
      groups: strings,
      createdAt: time,
      expiresAt: nullable('string', { format: 'date-time' }),
      lastUsedAt: nullable('string', { format: 'date-time' }),
      revokedAt: nullable('string', { format: 'date-time' }),
      createdBy: nullable('string'),
      state: { enum: ['active', 'expired', 'revoked'] },
    },
  },
  ApiKeyCreate: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 64 },
      groups: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, maxItems: 64 },
      expires: { ...str, description: 'A lifetime such as `90d`, or an ISO date.', examples: ['90d'] },
    },
  },
  ExplainRequest: {
    type: 'object',
    required: ['method', 'path'],
    additionalProperties: false,
    properties: {
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
      path: { type: 'string', minLength: 1, maxLength: 8192, examples: ['/api/pool/team-a-x'] },
      body: { description: 'The JSON body the request would carry.' },
      principal: {
        type: 'object',
        description: 'Explain for this principal instead of the caller.',
        required: ['id'],
        additionalProperties: false,
        properties: {
          id: str,
          groups: strings,
          method: { enum: ['oidc_bearer', 'session', 'api_key', 'ceph_native'] },
          api_key_name: nullable('string'),
          claims: { type: 'object' },
        },
      },
    },
  },
  Explanation: {
    type: 'object',
    required: ['request', 'decision', 'rules'],
    properties: {
      request: { type: 'object' },
      decision: { type: 'object', properties: { effect: { enum: ['allow', 'deny'] }, ruleId: nullable('string'), reason: str } },
      rules: { type: 'array', items: { type: 'object' } },
    },
  },
} as const;

/** The audit API's filters (web/audit-api.ts), shared by the page and the export. */
const filter = (name: string, description: string, schema: Record<string, unknown>) => ({ name, in: 'query', required: false, description, schema });
export const AUDIT_FILTER_PARAMETERS = [
  filter('from', 'received_at >= from (ISO-8601 with offset)', { type: 'string', format: 'date-time' }),
  filter('to', 'received_at < to (ISO-8601 with offset)', { type: 'string', format: 'date-time' }),
  filter('principal', 'principal id', { type: 'string' }),
  filter('group', 'a group of the principal', { type: 'string' }),
  filter('cluster', 'cluster name', { type: 'string' }),
  filter('method', 'HTTP method', { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] }),
  filter('operation', 'catalogue operation id, e.g. Pool.create', { type: 'string' }),
  filter('route', 'route template, e.g. /api/pool/{pool_name}', { type: 'string' }),
  filter('pool', 'a pool the request named anywhere Ceph reads one', { type: 'string' }),
  filter('param', '`name:value`, a decoded path parameter', { type: 'string' }),
  filter('decision', 'allow or deny', { enum: ['allow', 'deny'] }),
  filter('status', 'final HTTP status', { type: 'integer', minimum: 100, maximum: 599 }),
  filter('outcome', 'complete, refused or unknown', { enum: ['complete', 'refused', 'unknown'] }),
  filter('request_id', 'the request id', { type: 'string' }),
];

export const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An OIDC access token from a trusted issuer.' },
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'cgk_...',
    description: 'A gateway API key (`Authorization: Bearer cgk_...`, or the configured header).',
  },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: 'cephgate_session',
    description: 'The browser session (`__Host-` prefixed on https). State-changing requests also need X-CSRF-Token from /gateway/whoami.',
  },
} as const;
