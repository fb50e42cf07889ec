// The gateway's OpenAPI document stays true: every route the web app registers under /gateway is
// described, nothing described is missing (with and without browser login), the document validates
// as OpenAPI 3.1 (@readme/openapi-parser), and a route added without a description fails the check.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { validate } from '@readme/openapi-parser';
import type { Hono } from 'hono';
import type { AuditStore } from '../../src/audit/store.ts';
import type { ApiKeyStore } from '../../src/auth/apikey-store.ts';
import { cookiePolicy } from '../../src/auth/browser/cookies.ts';
import type { BrowserLogin } from '../../src/auth/browser/login.ts';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import { createRouteMatcher } from '../../src/ceph/route-matcher.ts';
import { GatewayError } from '../../src/core/errors.ts';
import { createTrustedProxies } from '../../src/intake/trusted-proxies.ts';
import type { PolicyManager } from '../../src/policy/manager.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { createWebApp } from '../../src/web/app.ts';
import type { AppEnv } from '../../src/web/env.ts';
import { mountGatewayRoutes } from '../../src/web/gateway-routes.ts';
import { createLoginRoutes } from '../../src/web/login.ts';
import { gatewayOpenApi } from '../../src/web/openapi.ts';
import { routeCoverage } from '../../src/web/openapi-coverage.ts';
import { LogCapture } from '../support/doubles.ts';

const refuse = async (): Promise<never> => {
  throw new GatewayError(401, 'unauthenticated', 'no credential (test)');
};

/** The web app exactly as server/build.ts assembles it; the doubles are never called while routes are listed. */
function gatewayApp(browserLogin: boolean): Hono<AppEnv> {
  const catalogues = new Map([['main', loadCatalogue('pacific')]]);
  const log = createLogger({ level: 'silent', format: 'json' }, new LogCapture());
  const login = { cookies: cookiePolicy('http://127.0.0.1:1', 'cephgate_session') } as unknown as BrowserLogin;
  return createWebApp(
    { trustedProxies: createTrustedProxies([]), now: () => new Date(), log, metrics: createMetrics({ defaultMetrics: false }) },
    {
      gatewayRoutes: (app) =>
        mountGatewayRoutes(app, {
          authorize: refuse,
          authenticate: refuse,
          matchRoute: createRouteMatcher({ catalogues, defaultCluster: 'main', allowUnknown: new Map() }),
          now: () => new Date(),
          audit: { db: {}, flush: async () => {} } as unknown as AuditStore,
          apiKeys: {} as ApiKeyStore,
          apiKeyMaxLifetimeDays: 365,
          policies: {} as PolicyManager,
          ...(browserLogin ? { browser: createLoginRoutes(login) } : {}),
        }),
    },
  );
}

describe('the OpenAPI document of /gateway', () => {
  for (const browserLogin of [true, false]) {
    test(`describes every registered /gateway route and nothing else (browser login ${browserLogin ? 'on' : 'off'})`, () => {
      const coverage = routeCoverage(gatewayApp(browserLogin), gatewayOpenApi({ browserLogin }));
      assert.deepEqual(coverage, { undescribed: [], missing: [] });
    });
  }

  test('a route added without a description fails the check, and a described route that is gone too', () => {
    const app = gatewayApp(true);
    app.get('/gateway/v1/something-new/:id', (c) => c.text('new'));
    const doc = gatewayOpenApi({ browserLogin: true }) as { paths: Record<string, unknown> };
    const coverage = routeCoverage(app, { paths: { ...doc.paths, '/gateway/v1/gone': { get: {} } } });
    assert.deepEqual(coverage, { undescribed: ['GET /gateway/v1/something-new/{id}'], missing: ['GET /gateway/v1/gone'] });
  });

  test('validates as OpenAPI 3.1, with an operation id and responses on every operation', async () => {
    for (const browserLogin of [true, false]) {
      const doc = gatewayOpenApi({ browserLogin });
      // The validator dereferences in place: give it a copy.
      const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
      assert.equal(result.valid, true, JSON.stringify(result));
      assert.equal(doc.openapi, '3.1.0');
      const ids = new Set<string>();
      for (const item of Object.values(doc.paths as Record<string, Record<string, { operationId: string; responses: object }>>)) {
        for (const op of Object.values(item)) {
          assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
          ids.add(op.operationId);
          assert.ok(Object.keys(op.responses).length > 0);
        }
      }
    }
  });

  test('is served at /gateway/openapi.json without a credential, as JSON under the API policy', async () => {
    // The web app reads Node's raw request (intake): serve it on a real socket.
    const app = gatewayApp(false);
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/gateway/openapi.json`);
    server.close();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    assert.ok('/gateway/v1/audit' in doc.paths);
    assert.ok(!('/gateway/login' in doc.paths), 'no login routes without browser login');
  });
});
