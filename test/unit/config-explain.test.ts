// The one place that turns an error into a line a person can act on (issue 18, item 1): the error in
// the cause chain that tells, where it happened, and what to do, for the errors operators meet.
// The cases are the errors as the libraries throw them (shapes seen from pg, drizzle, undici, fetch, PGlite).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeError, explainError } from '../../src/config/check-explain.ts';

/** An Error with Node's system-error fields. */
function sysError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

/** drizzle wraps the driver's error in "Failed query: <the whole SQL>". */
const drizzle = (cause: unknown) =>
  new Error(`Failed query: select "audit_intents"."id", "audit_intents"."seq", "audit_intents"."prev_hash" from "audit_intents"\nparams: `, { cause });

test('a refused Postgres connection names the address and says to check DATABASE_URL, not the SQL', () => {
  const err = drizzle(sysError('connect ECONNREFUSED 127.0.0.1:5999', { code: 'ECONNREFUSED', address: '127.0.0.1', port: 5999, syscall: 'connect' }));
  const line = describeError(err, { service: 'database' });
  assert.match(line, /^connection refused at 127\.0\.0\.1:5999: is Postgres running there\? Set DATABASE_URL/);
  assert.doesNotMatch(line, /Failed query|select/);
});

test('an unmigrated database says to run cephgate migrate', () => {
  const err = drizzle(Object.assign(new Error('relation "audit_chain_head" does not exist'), { code: '42P01' }));
  assert.equal(
    describeError(err, { service: 'database' }),
    'relation audit_chain_head does not exist: run `cephgate migrate` (or set audit.migrate_on_start: true)',
  );
});

test('Postgres answers by SQLSTATE: missing database, wrong credentials', () => {
  const missing = drizzle(Object.assign(new Error('database "x" does not exist'), { code: '3D000' }));
  assert.match(describeError(missing, { service: 'database', endpoint: 'postgres 127.0.0.1:5432/x' }), /database "x" does not exist .*create it/);
  const auth = Object.assign(new Error('password authentication failed for user "cg"'), { code: '28P01' });
  assert.match(describeError(auth, { service: 'database' }), /password authentication failed .*check the user and password in DATABASE_URL/);
});

test('every address of an AggregateError (happy eyeballs) is named once', () => {
  const err = new AggregateError(
    [
      sysError('connect ECONNREFUSED ::1:5432', { code: 'ECONNREFUSED', address: '::1', port: 5432 }),
      sysError('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED', address: '127.0.0.1', port: 5432 }),
    ],
    'connect failed',
  );
  assert.match(describeError(err), /^connection refused at \[::1\]:5432, 127\.0\.0\.1:5432/);
});

test('a refused dashboard says to check ceph.clusters[].dashboards; fetch failed is skipped for its cause', () => {
  const err = new TypeError('fetch failed', {
    cause: sysError('connect ECONNREFUSED 10.0.0.2:8443', { code: 'ECONNREFUSED', address: '10.0.0.2', port: 8443 }),
  });
  assert.match(describeError(err, { service: 'ceph' }), /^connection refused at 10\.0\.0\.2:8443: .*ceph\.clusters\[\]\.dashboards/);
});

test('names that do not resolve, timeouts and untrusted certificates say what to do', () => {
  assert.match(
    describeError(sysError('getaddrinfo ENOTFOUND db.internal', { code: 'ENOTFOUND', hostname: 'db.internal' }), { service: 'database' }),
    /cannot resolve host name db\.internal/,
  );
  assert.match(
    describeError(Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' }), { service: 'ceph', endpoint: 'https://mgr-a:8443' }),
    /timed out connecting to https:\/\/mgr-a:8443/,
  );
  const tls = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  assert.equal(
    describeError(tls, { service: 'ceph', endpoint: 'https://mgr-a:8443' }),
    "the TLS certificate of https://mgr-a:8443 is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE): set ceph.clusters[].tls.ca_file to the CA that signed the dashboard's certificate",
  );
});

test('file errors name the file', () => {
  const enoent = sysError("ENOENT: no such file or directory, open '/etc/cephgate/ceph-ca.pem'", { code: 'ENOENT', path: '/etc/cephgate/ceph-ca.pem' });
  assert.equal(describeError(enoent), 'no such file or directory: /etc/cephgate/ceph-ca.pem: check the path');
  const eacces = sysError('EACCES: permission denied', { code: 'EACCES', path: '/run/secrets/pw' });
  assert.match(describeError(eacces), /^permission denied: \/run\/secrets\/pw: make it readable by the gateway/);
});

test('a port in use says so', () => {
  const err = sysError('listen EADDRINUSE: address already in use 127.0.0.1:8080', { code: 'EADDRINUSE', address: '127.0.0.1', port: 8080 });
  assert.match(describeError(err), /^127\.0\.0\.1:8080 is already in use: another process listens there/);
});

test("PGlite's Aborted() says what it usually means", () => {
  const err = new Error('cannot open', { cause: Object.assign(new Error('Aborted(). Build with -sASSERTIONS for more info.'), { name: 'RuntimeError' }) });
  assert.match(
    describeError(err, { service: 'database', endpoint: './.cephgate/audit' }),
    /PGlite database in \.\/\.cephgate\/audit could not be opened .*another process/,
  );
});

test('an unknown error keeps the messages of its chain, outermost first, without wrappers', () => {
  const err = new Error('discovery of https://idp answered 404', { cause: new Error('Not Found') });
  const e = explainError(err);
  assert.equal(e.what, 'discovery of https://idp answered 404: Not Found');
  assert.equal(e.todo, null);
  assert.equal(describeError('a string'), 'a string');
});
