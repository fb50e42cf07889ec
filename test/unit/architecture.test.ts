// The floor plan of src/ (docs/architecture.md), kept true: every folder imports only from folders on
// lower floors (so there are no cycles between folders), the ground floor imports nothing of the
// project, only the composition root and the CLI reach the orchestrator (pipeline/) and the top floor
// (server/), and no hono type reaches the pipeline.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, test } from 'node:test';

/** Floor of each folder of src/ (higher may import lower; same floor only within a folder). */
const FLOORS: Record<string, number> = {
  core: 0,
  config: 1,
  db: 1,
  intake: 2,
  proxy: 2,
  telemetry: 2,
  limits: 2,
  ceph: 3,
  policy: 4,
  audit: 4,
  auth: 5,
  pipeline: 6,
  web: 6,
  server: 7,
  cli: 8,
  '.': 9, // src/cli.ts
};

interface Import {
  readonly from: string;
  readonly to: string;
  readonly spec: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const folderOf = (file: string): string => {
  const rel = relative('src', file);
  return rel.includes('/') ? (rel.split('/')[0] as string) : '.';
};

const FILES = sources('src');
const IMPORTS: Import[] = FILES.flatMap((from) => {
  const text = readFileSync(from, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)].map((m) => {
    const spec = (m[1] ?? m[2]) as string;
    return { from, spec, to: spec.startsWith('.') ? normalize(join(dirname(from), spec)) : spec };
  });
});
const projectImports = IMPORTS.filter((i) => i.spec.startsWith('.'));

describe('the floor plan of src/', () => {
  test('every folder of src/ has a floor', () => {
    const folders = new Set(FILES.map(folderOf));
    assert.deepEqual(
      [...folders].filter((f) => FLOORS[f] === undefined),
      [],
      'add the new folder to FLOORS and to docs/architecture.md',
    );
  });

  test('imports only go down a floor (or stay in their folder): no cycles between folders', () => {
    const up = projectImports.filter((i) => {
      const a = folderOf(i.from);
      const b = folderOf(i.to);
      return a !== b && (FLOORS[b] as number) >= (FLOORS[a] as number);
    });
    assert.deepEqual(
      up.map((i) => `${i.from} -> ${i.spec}`),
      [],
    );
  });

  test('the ground floor (core/) imports nothing of the project', () => {
    const out = projectImports.filter((i) => folderOf(i.from) === 'core' && folderOf(i.to) !== 'core');
    assert.deepEqual(
      out.map((i) => `${i.from} -> ${i.spec}`),
      [],
    );
  });

  test('only the composition root (server/) and the CLI import pipeline/ or server/', () => {
    const allowed = new Set(['server', 'cli', '.', 'pipeline']);
    const out = projectImports.filter((i) => ['pipeline', 'server'].includes(folderOf(i.to)) && !allowed.has(folderOf(i.from)));
    assert.deepEqual(
      out.map((i) => `${i.from} -> ${i.spec}`),
      [],
    );
  });

  test('no framework types in the pipeline: it speaks core/exchange.ts', () => {
    const out = IMPORTS.filter((i) => folderOf(i.from) === 'pipeline' && /^(hono|@hono\/)/.test(i.spec));
    assert.deepEqual(
      out.map((i) => `${i.from} -> ${i.spec}`),
      [],
    );
  });

  test('the floor plan is the one docs/architecture.md shows', () => {
    const doc = readFileSync('docs/architecture.md', 'utf8');
    for (const folder of Object.keys(FLOORS).filter((f) => f !== '.')) assert.match(doc, new RegExp(`\\b${folder}/`), `docs/architecture.md names ${folder}/`);
  });
});
