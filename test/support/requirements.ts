// Real dependencies of integration tests (Ceph, Postgres, Chromium, ...). A test asks for one with
// `need(t, 'ceph')`: when it is missing the test is skipped with the reason printed, and under
// CI=true a missing dependency fails the test instead, so CI can never pass on skipped suites.
// A file that calls releaseSuite() is run once per Ceph release test/run.ts brings up (Pacific, Reef),
// each time with that release's clusters and CEPHGATE_TEST_RELEASE.

import { appendFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import type { CephRelease } from '../../scripts/ceph/cluster.ts';
import { RELEASES } from '../../scripts/ceph/runner.ts';
import { oracleMissing } from './cherrypy-oracle.ts';

function releaseFromEnv(): CephRelease {
  const r = process.env.CEPHGATE_TEST_RELEASE ?? 'pacific';
  if (!(RELEASES as readonly string[]).includes(r)) throw new Error(`CEPHGATE_TEST_RELEASE=${r}: one of ${RELEASES.join(', ')}`);
  return r as CephRelease;
}

export type Requirement = 'ceph' | 'ceph2' | 'postgres' | 'chromium' | 'cherrypy';

const SKIPS_FILE = process.env.CEPHGATE_TEST_SKIPS_FILE;

/** Environment published by test/run.ts after it brought up the shared real services. */
export const testEnv = {
  /** The release of the shared clusters below, and of the clusters a release suite starts itself. */
  release: releaseFromEnv(),
  /** Dashboard URL of the shared throwaway Ceph (active mgr), e.g. http://127.0.0.1:41234 */
  cephUrl: process.env.CEPHGATE_TEST_CEPH_URL,
  /** All mgr dashboard URLs of that cluster, comma-separated. */
  cephUrls: process.env.CEPHGATE_TEST_CEPH_URLS?.split(',').filter(Boolean) ?? [],
  /** Dashboard administrator created by the cluster script. */
  cephAdminUser: process.env.CEPHGATE_TEST_CEPH_ADMIN_USER ?? 'admin',
  cephAdminPassword: process.env.CEPHGATE_TEST_CEPH_ADMIN_PASSWORD,
  /** ceph.conf of that cluster, for running `ceph` CLI commands against it. */
  cephConf: process.env.CEPHGATE_TEST_CEPH_CONF,
  /** A second, independent cluster (multi-cluster tests). */
  ceph2Url: process.env.CEPHGATE_TEST_CEPH2_URL,
  ceph2Conf: process.env.CEPHGATE_TEST_CEPH2_CONF,
  ceph2AdminPassword: process.env.CEPHGATE_TEST_CEPH2_ADMIN_PASSWORD,
  databaseUrl: process.env.CEPHGATE_TEST_DATABASE_URL,
  chromium: process.env.CEPHGATE_TEST_CHROMIUM,
};

const reasons: Record<Requirement, () => string | null> = {
  ceph: () => (testEnv.cephUrl && testEnv.cephConf ? null : (process.env.CEPHGATE_TEST_CEPH_MISSING ?? 'no real Ceph (run the suite through `npm test`)')),
  ceph2: () => (testEnv.ceph2Url && testEnv.ceph2Conf ? null : (process.env.CEPHGATE_TEST_CEPH2_MISSING ?? 'no second real Ceph')),
  postgres: () => (testEnv.databaseUrl ? null : (process.env.CEPHGATE_TEST_POSTGRES_MISSING ?? 'no reachable Postgres')),
  chromium: () => (testEnv.chromium ? null : (process.env.CEPHGATE_TEST_CHROMIUM_MISSING ?? 'no Chromium (apt-get install chromium)')),
  // CherryPy and the dashboard's sources come with the release's Ceph packages (ceph-mgr-dashboard).
  cherrypy: () => oracleMissing(testEnv.release),
};

/**
 * Marks this file as a release suite: test/run.ts looks for this call in the source (as it looks
 * for need(t, 'ceph')) and runs the file once per release it brings up. Returns the release of this
 * run, for startCluster(), loadCatalogue() and the gateway's configuration; says it in the output.
 */
export function releaseSuite(): CephRelease {
  // Reported by node's test runner as a `#` line of this file.
  console.log(`release under test: ${testEnv.release}`);
  return testEnv.release;
}

/** Returns true when the requirement is met; otherwise skips the test (or fails it under CI=true). */
export function need(t: TestContext, ...what: Requirement[]): boolean {
  for (const r of what) {
    const reason = reasons[r]();
    if (reason === null) continue;
    if (process.env.CI === 'true') throw new Error(`required under CI=true: ${r}: ${reason}`);
    t.skip(`needs ${r}: ${reason}`);
    if (SKIPS_FILE) {
      // Collected by test/run.ts to print which suites were skipped and why.
      appendFileSync(SKIPS_FILE, `${t.fullName}\t${r}\t${reason}\n`);
    }
    return false;
  }
  return true;
}
