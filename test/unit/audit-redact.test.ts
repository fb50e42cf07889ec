// Redaction: no secret of any catalogued operation (every release) reaches an audit record, by name,
// by the catalogue's secretFields, by configured extra paths; the input is never mutated.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedactor, isSecretName, REDACTED } from '../../src/audit/redact.ts';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import type { CatalogueOperation, CephRelease } from '../../src/core/catalogue.ts';

const releases: CephRelease[] = ['pacific', 'reef', 'tentacle'];

/** Sets a dotted path in a fresh nested object. */
function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.split('.');
  let node = obj;
  for (const s of segs.slice(0, -1)) node = (node[s] ??= {}) as Record<string, unknown>;
  node[segs.at(-1) as string] = value;
}

function op(over: Partial<CatalogueOperation>): CatalogueOperation {
  return {
    id: 'X.y',
    method: 'POST',
    template: '/api/x',
    segments: [],
    pathParams: [],
    version: '1.0',
    scope: null,
    permission: null,
    poolFields: [],
    secretFields: [],
    bodyFields: [],
    queryParams: [],
    unauthenticated: false,
    ...over,
  };
}

describe('audit redaction', () => {
  for (const release of releases) {
    it(`${release}: every catalogued secret field (and every secret-looking body field) is redacted`, () => {
      const r = createRedactor();
      const ops = loadCatalogue(release).operations.filter((o) => o.secretFields.length > 0 || o.bodyFields.some(isSecretName));
      assert.ok(ops.length > 0, 'the catalogue names secret fields');
      let checked = 0;
      for (const o of ops) {
        const body: Record<string, unknown> = { harmless: 'visible' };
        const sentinels: string[] = [];
        for (const [i, f] of [...o.secretFields, ...o.bodyFields.filter(isSecretName)].entries()) {
          const s = `SENTINEL-${o.id}-${i}`;
          sentinels.push(s);
          setPath(body, f, s);
          // The same secret nested and inside an array must not escape either.
          setPath(body, `nested.${f}`, s);
          body.list = [{ [f.split('.').at(-1) as string]: s }];
        }
        const out = JSON.stringify(r.body(body, o));
        for (const s of sentinels) assert.ok(!out.includes(s), `${release} ${o.method} ${o.template}: ${s} leaked: ${out}`);
        assert.ok(out.includes('visible'));
        checked++;
      }
      assert.equal(checked, ops.length);
    });
  }

  it('redacts secret-named keys at any depth, including mirroring peer `key`, mutual_password and tokens', () => {
    const r = createRedactor();
    const body = {
      user_id: 'bob',
      password: 'p1',
      auth: { mutual_password: 'p2', mutual_user: 'u' },
      keys: [{ access_key: 'AK', secret_key: 'SK' }],
      clientSecret: 'cs',
      refresh_token: 'rt',
      'X-Api-Key': 'ak',
      key: 'cephx',
      count: 3,
    };
    const peer = op({ template: '/api/block/mirroring/pool/{pool_name}/peer/{peer_uuid}', method: 'PUT' });
    assert.deepEqual(r.body(body, peer), {
      user_id: 'bob',
      password: REDACTED,
      auth: { mutual_password: REDACTED, mutual_user: 'u' },
      keys: [{ access_key: REDACTED, secret_key: REDACTED }],
      clientSecret: REDACTED,
      refresh_token: REDACTED,
      'X-Api-Key': REDACTED,
      key: REDACTED,
      count: 3,
    });
    // Outside mirroring, a plain `key` (e.g. an S3 object key) stays readable unless the catalogue lists it.
    assert.equal((r.body({ key: 'k' }, op({})) as { key: string }).key, 'k');
    assert.equal((r.body({ key: 'k' }, op({ secretFields: ['key'] })) as { key: string }).key, REDACTED);
  });

  it('applies configured extra dotted paths with `*` and implicit array traversal', () => {
    const r = createRedactor({ extraPaths: ['spec.cert_pem', 'targets.*.auth.user', 'hosts.note'] });
    const out = r.body(
      { spec: { cert_pem: 'PEM', name: 'n' }, targets: { a: { auth: { user: 'u1' } }, b: { auth: { user: 'u2' } } }, hosts: [{ note: 'n1' }, { note: 'n2' }] },
      null,
    );
    assert.deepEqual(out, {
      spec: { cert_pem: REDACTED, name: 'n' },
      targets: { a: { auth: { user: REDACTED } }, b: { auth: { user: REDACTED } } },
      hosts: [{ note: REDACTED }, { note: REDACTED }],
    });
  });

  it('never mutates its input, keeps nulls, and strips NUL characters Postgres would reject', () => {
    const r = createRedactor();
    const input = { password: 'x', note: 'a\u0000b', empty: null, deep: { token: null } };
    const frozen = structuredClone(input);
    assert.deepEqual(r.body(input, null), { password: REDACTED, note: 'a\uFFFDb', empty: null, deep: { token: null } });
    assert.deepEqual(input, frozen);
  });

  it('redacts secret-named query parameters', () => {
    assert.deepEqual(createRedactor().query({ token: ['t'], pool: ['rbd'], access_key: ['a', 'b'] }), {
      token: [REDACTED],
      pool: ['rbd'],
      access_key: [REDACTED, REDACTED],
    });
  });
});
