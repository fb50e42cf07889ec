// The routing side of the composition root: the Ceph release of each cluster (configured, or detected
// from a dashboard's own OpenAPI document, saying for each dashboard why it could not tell), its route
// catalogue, and the route matcher.

import { knowsUiRoutes, loadCatalogue, type RouteCatalogue } from '../ceph/catalogue.ts';
import { detectRelease } from '../ceph/release.ts';
import { createRouteMatcher, type RouteMatcher } from '../ceph/route-matcher.ts';
import { describeError } from '../config/check-explain.ts';
import type { Config } from '../config/schema.ts';
import type { CephRelease } from '../core/catalogue.ts';
import type { Logger } from '../core/logger.ts';
import { createDispatcher } from '../proxy/forward.ts';
import { StartupError } from './startup-error.ts';

export interface Routing {
  readonly catalogues: ReadonlyMap<string, RouteCatalogue>;
  readonly defaultCluster: string;
  readonly matchRoute: RouteMatcher;
  /** Clusters whose dashboard web UI is served (docs/dashboard-ui.md): enabled, browser login configured, UI routes known. */
  readonly uiClusters: ReadonlySet<string>;
}

export async function setUpRouting(config: Config, log: Logger): Promise<Routing> {
  const catalogues = new Map<string, RouteCatalogue>();
  for (const [name, release] of await clusterReleases(config, log)) catalogues.set(name, loadCatalogue(release));
  const defaultCluster = config.ceph.default_cluster ?? (config.ceph.clusters[0]?.name as string);
  const allowUnknown = new Map(config.ceph.clusters.map((c) => [c.name, c.allow_unknown_routes]));
  const browserLogin = config.identity.browser_login?.enabled === true;
  const uiClusters = new Set(
    config.ceph.clusters
      .filter((c) => browserLogin && c.dashboard_ui.enabled && knowsUiRoutes((catalogues.get(c.name) as RouteCatalogue).release))
      .map((c) => c.name),
  );
  for (const c of config.ceph.clusters) {
    const release = catalogues.get(c.name)?.release;
    if (c.dashboard_ui.enabled && browserLogin && release !== undefined && !knowsUiRoutes(release)) {
      log.warn({ cluster: c.name, release }, 'the dashboard UI of this release is not served: its /ui-api routes are not in the catalogue');
    }
  }
  return { catalogues, defaultCluster, uiClusters, matchRoute: createRouteMatcher({ catalogues, defaultCluster, allowUnknown, uiClusters }) };
}

async function clusterReleases(config: Config, log: Logger): Promise<Map<string, CephRelease>> {
  const out = new Map<string, CephRelease>();
  for (const c of config.ceph.clusters) {
    if (c.release !== 'auto') {
      out.set(c.name, c.release);
      continue;
    }
    // Every dashboard's own reason: with two mgrs, the last one's alone is usually the standby's.
    const failures: string[] = [];
    for (const url of c.dashboards) {
      let dispatcher: ReturnType<typeof createDispatcher>;
      try {
        dispatcher = createDispatcher({ connectTimeoutMs: c.timeouts.connect_ms, caFile: c.tls.ca_file, insecureSkipVerify: c.tls.insecure_skip_verify });
      } catch (err) {
        throw new StartupError(`cluster ${c.name}: tls.ca_file: ${describeError(err, { service: 'file', endpoint: c.tls.ca_file ?? '' })}`);
      }
      try {
        const release = await detectRelease(url, { dispatcher, timeoutMs: 10_000 });
        out.set(c.name, release);
        log.info({ cluster: c.name, release, url }, 'detected the Ceph release');
        break;
      } catch (err) {
        failures.push(`${url}: ${describeError(err, { service: 'ceph', endpoint: url })}`);
      } finally {
        await dispatcher.close();
      }
    }
    if (!out.has(c.name)) {
      throw new StartupError(
        `cannot detect the Ceph release of cluster ${c.name} (release: auto): ${failures.join('; ')}. Make a dashboard reachable, or set ceph.clusters[].release`,
        3,
      );
    }
  }
  return out;
}
