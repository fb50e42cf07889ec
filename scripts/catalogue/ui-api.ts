// Writes src/ceph/catalogue/ui-api-<release>.json from the dashboard's own controllers (the OpenAPI specs
// omit /ui-api) and prints how the controllers' other routes compare with the OpenAPI-derived catalogue.
//
// Usage: tsx scripts/catalogue/ui-api.ts <release> [DASHBOARD_DIR] [--python "CMD ..."] [--out FILE] [--report FILE] [--check]
//   DASHBOARD_DIR  default /usr/share/ceph/mgr/dashboard (an unpacked package root or a source tree works too)
//   --python       the interpreter, split on spaces; e.g. --python "chroot /srv/reef /usr/bin/python3",
//                  DASHBOARD_DIR is then a path inside that root
//   Reef, from the cached chroot of scripts/ceph (its own Python and CherryPy; host paths under the
//   chroot are translated by `cli.ts exec`):
//     npx tsx scripts/catalogue/ui-api.ts reef "$(npx tsx scripts/ceph/cli.ts dashboard-dir --release reef)" \
//       --python "npx tsx scripts/ceph/cli.ts exec --release reef -- /usr/bin/python3"
//   --out FILE     write there instead of src/ceph/catalogue/ui-api-<release>.json
//   --report FILE  also write the comparison as JSON (e.g. scripts/catalogue/out/, not committed)
//   --check        write nothing; exit 1 when the committed file differs from what would be written

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CatalogueOperation, CephRelease } from '../../src/core/catalogue.ts';
import { compareWithCatalogue, formatComparison } from './api-comparison.ts';
import { INSTALLED_DASHBOARD, listDashboardRoutes, SYSTEM_PYTHON } from './dashboard-routes.ts';
import { serialiseCatalogue } from './openapi-operations.ts';
import { isUiRoute, operationsFromRoutes } from './ui-operations.ts';

const RELEASES: readonly CephRelease[] = ['pacific', 'reef', 'tentacle'];

function main(): number {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { python: { type: 'string' }, out: { type: 'string' }, report: { type: 'string' }, check: { type: 'boolean' } },
  });
  const [release, dir = INSTALLED_DASHBOARD] = positionals as [string | undefined, string | undefined];
  if (release === undefined || !RELEASES.includes(release as CephRelease) || positionals.length > 2) {
    console.error(`usage: tsx scripts/catalogue/ui-api.ts <${RELEASES.join('|')}> [DASHBOARD_DIR] [--python "CMD"] [--out FILE] [--report FILE] [--check]`);
    return 2;
  }
  const python = values.python === undefined ? SYSTEM_PYTHON : values.python.split(' ').filter(Boolean);
  const listing = listDashboardRoutes(dir, python);
  for (const e of listing.load_errors) console.error(`warning: the dashboard logged while loading: ${e}`);
  for (const s of listing.shadowed) console.error(`note: ${s.method} ${s.template} ${s.controller}.${s.handler} is unreachable, shadowed by ${s.shadowed_by}`);

  const ops = operationsFromRoutes(listing.routes, listing.default_version, isUiRoute);
  const out =
    values.out === undefined
      ? new URL(`../../src/ceph/catalogue/ui-api-${release}.json`, import.meta.url)
      : new URL(values.out, pathToFileURL(`${process.cwd()}/`));
  const text = serialiseCatalogue(release as CephRelease, ops);
  if (values.check) {
    const same = readFileSync(out, 'utf8') === text;
    console.log(`${out.pathname}: ${same ? 'up to date' : 'differs from the controllers'}`);
    return same ? 0 : 1;
  }
  writeFileSync(out, text);
  console.log(`${release}: ${ops.length} /ui-api operations from ${listing.source} -> ${out.pathname}`);

  // The /api (and /auth, /docs) routes come from the OpenAPI spec; the controllers are a second witness.
  const raw = JSON.parse(readFileSync(new URL(`../../src/ceph/catalogue/${release}.json`, import.meta.url), 'utf8')) as { operations: CatalogueOperation[] };
  const others = listing.routes.filter((r) => !isUiRoute(r) && !r.any_method);
  const comparison = compareWithCatalogue(
    others,
    raw.operations.filter((o) => !o.template.startsWith('/ui-api')),
    listing.default_version,
  );
  const handListed = compareWithCatalogue(
    listing.routes.filter(isUiRoute),
    raw.operations.filter((o) => o.template.startsWith('/ui-api')),
    listing.default_version,
  );
  console.log(formatComparison(`controllers vs ${release}.json outside /ui-api`, comparison).join('\n'));
  // Only the hand-listed /ui-api entries of the catalogue are compared here: the rest is this file's job.
  console.log(formatComparison(`controllers vs ${release}.json hand-listed /ui-api entries`, { ...handListed, onlyInControllers: [] }).join('\n'));
  if (values.report !== undefined) {
    mkdirSync(dirname(values.report), { recursive: true });
    writeFileSync(
      values.report,
      `${JSON.stringify({ release, source: listing.source, modules: listing.modules, shadowed: listing.shadowed, comparison, handListed: { ...handListed, onlyInControllers: [] } }, null, 1)}\n`,
    );
  }
  return 0;
}

process.exitCode = main();
