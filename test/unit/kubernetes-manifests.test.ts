// deploy/kubernetes without a cluster: the base and the example overlay rendered as kustomize would,
// every object checked against Kubernetes' schemas (kubernetes-models: types, enums, required
// fields) and, through the TypeScript compiler, against its declared fields (a misspelled key), then
// the promises of docs/kubernetes.md: non-root, read-only root, probes on admin paths that exist,
// secrets only as mounted files, migration first, and an image that carries no example policies.
//
// The renderer covers what these kustomizations use: resources (files and directories),
// namespace, images, replicas, config map and secret generators (create/replace; a hash suffix and
// the volume references renamed; secret files are listed, never read) and JSON 6902 patches with a
// kind/name target. Any other kustomization key fails the test, so a new feature gets rendered
// here too (or checked with `kubectl kustomize`). On these files its output was compared with
// kustomize v5.5's: the same objects, except for the hash in the generated names.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { test } from 'node:test';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import ts from 'typescript';
import { parse, parseAllDocuments } from 'yaml';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { compilePolicySources } from '../../src/policy/compile.ts';
import { loadPolicyDir } from '../../src/policy/files.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { createAdminApp } from '../../src/web/admin.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const K8S = join(ROOT, 'deploy', 'kubernetes');
const PHASE = 'cephgate/phase';

interface K8s {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
type Labels = Record<string, string>;
interface Generator {
  name: string;
  behavior?: string;
  type?: string;
  files?: string[];
  options?: { labels?: Labels };
}
interface Kustomization {
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  replicas?: { name: string; count: number }[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  patches?: { target: { kind: string; name: string }; patch: string }[];
}
const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'images', 'replicas', 'configMapGenerator', 'secretGenerator', 'patches']);

// ---- rendering ---------------------------------------------------------------------------------

const yamlDocs = (file: string): K8s[] =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as K8s)
    .filter(Boolean);
const podSpec = (o: K8s): IPodSpec | undefined =>
  o.kind === 'Deployment' || o.kind === 'Job' ? shape<{ spec: { template: { spec: IPodSpec } } }>(o).spec.template.spec : undefined;
/** The object in the shape a test reads (the first test validates it against the schemas). */
const shape = <T>(o: K8s | K8s[] | undefined): T => o as unknown as T;
const containers = (p: IPodSpec): IContainer[] => [...(p.initContainers ?? []), ...p.containers];

function generate(dir: string, g: Generator, kind: 'ConfigMap' | 'Secret'): K8s {
  const data: Record<string, string> = {};
  for (const entry of g.files ?? []) {
    const [key, file] = entry.includes('=') ? (entry.split('=') as [string, string]) : [basename(entry), entry];
    // Secret files stay out of git and out of this test: only their names are used.
    data[key] = kind === 'Secret' ? '' : readFileSync(join(dir, file), 'utf8');
  }
  const meta = { name: g.name, ...(g.options?.labels ? { labels: g.options.labels } : {}) };
  return { apiVersion: 'v1', kind, metadata: meta, ...(Object.keys(data).length > 0 ? { data } : {}), ...(g.type ? { type: g.type } : {}) };
}

function pointer(doc: unknown, path: string): { parent: Record<string, unknown> | unknown[]; key: string } {
  const keys = path
    .split('/')
    .slice(1)
    .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
  let node = doc as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  assert.ok(node !== undefined, `patch path ${path} does not exist`);
  return { parent: node, key: keys.at(-1) as string };
}

function jsonPatch(doc: K8s, ops: { op: string; path: string; value?: unknown }[]): void {
  for (const { op, path, value } of ops) {
    const { parent, key } = pointer(doc, path);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      assert.ok(op === 'add' || i < parent.length, `patch ${op} ${path}: no such element`);
      parent.splice(i, op === 'add' ? 0 : 1, ...(op === 'remove' ? [] : [value]));
    } else {
      assert.ok(op === 'add' || key in parent, `patch ${op} ${path}: no such field`);
      if (op === 'remove') delete parent[key];
      else parent[key] = value;
    }
  }
}

function accumulate(dir: string): { objects: K8s[]; generated: Set<K8s> } {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  for (const key of Object.keys(k)) assert.ok(SUPPORTED.has(key), `${dir}: kustomization key ${key} is not rendered by this test`);
  let objects: K8s[] = [];
  const generated = new Set<K8s>();
  for (const r of k.resources ?? []) {
    const p = join(dir, r);
    if (statSync(p).isDirectory()) {
      const sub = accumulate(p);
      objects.push(...sub.objects);
      for (const g of sub.generated) generated.add(g);
    } else objects.push(...yamlDocs(p));
  }
  const gens = [...(k.configMapGenerator ?? []).map((g) => [g, 'ConfigMap'] as const), ...(k.secretGenerator ?? []).map((g) => [g, 'Secret'] as const)];
  for (const [g, kind] of gens) {
    const obj = generate(dir, g, kind);
    const old = objects.find((o) => generated.has(o) && o.kind === kind && o.metadata.name === g.name);
    assert.equal(old !== undefined, g.behavior === 'replace' || g.behavior === 'merge', `${dir}: generator ${g.name} behavior ${g.behavior ?? 'create'}`);
    objects = objects.filter((o) => o !== old);
    objects.push(obj);
    generated.add(obj);
  }
  for (const o of objects) {
    if (k.namespace !== undefined && o.kind !== 'Namespace') o.metadata.namespace = k.namespace;
    const pod = podSpec(o);
    for (const c of pod ? containers(pod) : []) {
      const image = k.images?.find((i) => c.image?.replace(/[@:].*$/, '') === i.name);
      if (image) c.image = `${image.newName ?? image.name}${image.newTag ? `:${image.newTag}` : ''}${image.digest ? `@${image.digest}` : ''}`;
    }
    const replicas = k.replicas?.find((r) => r.name === o.metadata.name && o.kind === 'Deployment');
    if (replicas) shape<{ spec: { replicas: number } }>(o).spec.replicas = replicas.count;
  }
  for (const p of k.patches ?? []) {
    const target = objects.find((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
    assert.ok(target, `${dir}: patch target ${p.target.kind}/${p.target.name} not found`);
    jsonPatch(target, parse(p.patch) as { op: string; path: string }[]);
  }
  return { objects, generated };
}

/** Renders a kustomization directory: generated objects get a content hash suffix, and references follow. */
function render(dir: string): K8s[] {
  const { objects, generated } = accumulate(dir);
  const renamed = new Map<string, string>();
  for (const o of generated) {
    const name = `${o.metadata.name}-${createHash('sha256').update(JSON.stringify(o)).digest('hex').slice(0, 10)}`;
    renamed.set(`${o.kind}/${o.metadata.name}`, name);
    o.metadata.name = name;
  }
  for (const pod of objects.map(podSpec)) {
    for (const v of pod?.volumes ?? []) {
      if (v.configMap?.name) v.configMap.name = renamed.get(`ConfigMap/${v.configMap.name}`) ?? String(v.configMap.name);
      if (v.secret?.secretName) v.secret.secretName = renamed.get(`Secret/${v.secret.secretName}`) ?? String(v.secret.secretName);
    }
  }
  return objects;
}

// ---- what the tests read from the rendered objects ---------------------------------------------

interface Workload {
  obj: K8s;
  pod: IPodSpec;
  labels: Labels;
}
const workload = (objs: K8s[], kind: string, name: string): Workload => {
  const obj = objs.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(obj, `${kind}/${name} missing`);
  const t = shape<{ spec: { template: { metadata: { labels: Labels }; spec: IPodSpec } } }>(obj).spec.template;
  return { obj, pod: t.spec, labels: t.metadata.labels };
};
const configOf = (objs: K8s[], pod: IPodSpec): Config => {
  const volume = pod.volumes?.find((v) => v.name === 'config')?.configMap?.name;
  const cm = shape<{ data: Record<string, string> } | undefined>(objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume));
  assert.ok(cm?.data['cephgate.yaml'], 'the config volume names a ConfigMap holding cephgate.yaml');
  return validateConfig(parse(cm.data['cephgate.yaml']), 'ConfigMap cephgate-config');
};
const matches = (selector: Labels | undefined, labels: Labels) => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
const mebibytes = (q: string) => Number.parseInt(q, 10) * ({ Mi: 1, Gi: 1024 }[q.replace(/^\d+/, '')] ?? Number.NaN);

/** Every string leaf of the configuration with its dotted key. */
function leaves(node: unknown, path = ''): [string, unknown][] {
  if (node === null || typeof node !== 'object') return [[path, node]];
  return Object.entries(node).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

const RENDERED = { base: render(join(K8S, 'base')), overlay: render(join(K8S, 'overlays', 'example')) };
const EXTRAS = readdirSync(join(K8S, 'extras')).flatMap((f) => yamlDocs(join(K8S, 'extras', f)));

// ---- schemas -------------------------------------------------------------------------------------

const modelOf = (o: K8s) =>
  `${o.apiVersion.startsWith('monitoring.coreos.com/') ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models'}/${o.apiVersion}/${o.kind}`;

test('every object is valid against the Kubernetes schemas', async () => {
  for (const o of [...RENDERED.base, ...RENDERED.overlay, ...EXTRAS]) {
    const Model = (await import(modelOf(o)))[o.kind] as new (data: unknown) => { validate(): void };
    assert.doesNotThrow(() => new Model(structuredClone(o)).validate(), `${o.kind}/${o.metadata.name}`);
  }
});

test('every field of every object is one its Kubernetes type declares (a misspelling fails)', () => {
  const objects = [...RENDERED.overlay, ...EXTRAS];
  const lines = objects.map((o, i) => `import type { I${o.kind} as T${i} } from '${modelOf(o)}';`);
  lines.push(...objects.map((o, i) => `export const o${i}: T${i} = ${JSON.stringify(o)};`));
  const file = join(ROOT, 'test', 'unit', '__kubernetes_manifests_types.ts');
  const host = ts.createCompilerHost({});
  const { getSourceFile, fileExists } = host;
  host.fileExists = (f) => f === file || fileExists.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, lines.join('\n'), lang) : getSourceFile.call(host, f, lang, ...rest));
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const program = ts.createProgram([file], options, host);
  // Only this file is checked: the declarations of kubernetes-models are trusted (and ~10x slower).
  const source = program.getSourceFile(file);
  const problems = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line - objects.length : -1;
    return `${objects[line] ? `${objects[line].kind}/${objects[line].metadata.name}` : 'import'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 300)}`;
  });
  assert.deepEqual(problems, []);
});

// ---- the pods ----------------------------------------------------------------------------------

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
const stages = dockerfile
  .split(/^FROM\s+/m)
  .slice(1)
  .map((s) => {
    const [head = '', ...rest] = s.split('\n');
    const lines = rest.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    return { image: head.split(/\s+/)[0] as string, name: /\sAS\s+(\S+)/i.exec(head)?.[1] ?? '', lines };
  });
const runtime = stages.at(-1)!;
const [imageUid, imageGid] = (
  runtime.lines
    .findLast((l) => l.startsWith('USER '))
    ?.slice(5)
    .trim() ?? ''
)
  .split(':')
  .map(Number);

for (const [variant, objs] of Object.entries(RENDERED)) {
  test(`${variant}: pods run as the image's non-root user with a read-only root and no privileges`, () => {
    assert.ok(Number.isInteger(imageUid) && imageUid !== 0 && Number.isInteger(imageGid), 'the image runs as a numeric non-root USER uid:gid');
    for (const { pod, obj } of [workload(objs, 'Deployment', 'cephgate'), workload(objs, 'Job', 'cephgate-migrate')]) {
      const at = `${obj.kind}/${obj.metadata.name}`;
      assert.equal(pod.automountServiceAccountToken, false, at);
      assert.ok(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC, at);
      assert.deepEqual(pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' }, at);
      assert.equal(pod.securityContext?.runAsNonRoot, true, at);
      for (const c of containers(pod)) {
        const sc = c.securityContext ?? {};
        assert.equal(sc.runAsNonRoot, true, `${at} ${c.name}`);
        assert.deepEqual(
          [sc.runAsUser ?? pod.securityContext?.runAsUser, sc.runAsGroup ?? pod.securityContext?.runAsGroup],
          [imageUid, imageGid],
          `${at} ${c.name}: the Dockerfile's USER`,
        );
        assert.equal(sc.readOnlyRootFilesystem, true, `${at} ${c.name}`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${at} ${c.name}`);
        assert.notEqual(sc.privileged, true, `${at} ${c.name}`);
        assert.deepEqual([sc.capabilities?.drop, sc.capabilities?.add], [['ALL'], undefined], `${at} ${c.name}`);
        assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' }, `${at} ${c.name}`);
        for (const m of c.volumeMounts ?? []) {
          const v = pod.volumes?.find((x) => x.name === m.name);
          assert.ok(v && !v.hostPath, `${at} ${c.name}: ${m.mountPath}`);
          // Writable only: emptyDirs (/tmp, /var/lib/cephgate, the init container's policy copy).
          if (!m.readOnly) assert.ok(v.emptyDir, `${at} ${c.name}: ${m.mountPath} is writable but not an emptyDir`);
        }
        // Secrets only as files: never in the environment (kubectl describe, /proc, crash dumps).
        assert.ok(!c.envFrom?.some((e) => e.secretRef), `${at} ${c.name}: envFrom a Secret`);
        assert.ok(!c.env?.some((e) => e.valueFrom?.secretKeyRef), `${at} ${c.name}: env from a Secret`);
      }
    }
    const gateway = workload(objs, 'Deployment', 'cephgate').pod;
    const main = gateway.containers.find((c) => c.name === 'cephgate')!;
    const mounts = (main.volumeMounts ?? [])
      .filter((m) => !m.readOnly)
      .map((m) => m.mountPath)
      .sort();
    assert.deepEqual(mounts, ['/tmp', '/var/lib/cephgate']);
  });

  test(`${variant}: probes, ports and shutdown agree with the configuration`, async () => {
    const { pod, obj } = workload(objs, 'Deployment', 'cephgate');
    const config = configOf(objs, pod);
    const main = pod.containers.find((c) => c.name === 'cephgate')!;
    const port = (name: string) => main.ports?.find((p) => p.name === name)?.containerPort;
    assert.equal(port('http'), config.server.listen.port);
    assert.equal(port('admin'), config.admin.listen.port);
    assert.equal(config.admin.listen.host, '0.0.0.0', 'the kubelet probes the pod IP');
    assert.deepEqual(
      [main.startupProbe?.httpGet, main.livenessProbe?.httpGet, main.readinessProbe?.httpGet].map((g) => `${g?.port} ${g?.path}`),
      ['admin /healthz', 'admin /healthz', 'admin /readyz'],
    );
    // The paths exist on the admin app; liveness stays 200 while the audit store is down, readiness does not.
    for (const [auditUp, ready] of [
      [true, 200],
      [false, 503],
    ] as const) {
      const app = createAdminApp({
        metrics: createMetrics({ defaultMetrics: false }),
        audit: { ping: async () => auditUp },
        upstream: { ping: async () => true },
        clusters: ['c'],
        policyVersion: () => 'v',
      });
      assert.equal((await app.request('/healthz')).status, 200);
      assert.equal((await app.request('/readyz')).status, ready);
      assert.equal((await app.request('/metrics')).status, 200);
    }
    const sleep = main.lifecycle?.preStop?.sleep?.seconds ?? 0;
    assert.ok(
      (pod.terminationGracePeriodSeconds ?? 30) >= sleep + config.server.shutdown_grace_ms / 1000 + 5,
      'grace period covers preStop + shutdown_grace_ms + closing the store',
    );
    // Measured RSS peaks at 235 MB (README, Performance): the request covers it, the limit exceeds it.
    const { requests, limits } = main.resources ?? {};
    assert.ok(
      mebibytes(String(requests?.memory)) * 1048576 >= 235e6 && mebibytes(String(limits?.memory)) > mebibytes(String(requests?.memory)),
      'memory request and limit',
    );
    const spec = shape<{ spec: { replicas: number; strategy: { rollingUpdate: { maxSurge: number } } } }>(obj).spec;
    for (const c of config.ceph.clusters) {
      assert.ok(
        (spec.replicas + spec.strategy.rollingUpdate.maxSurge) * c.login.max_credential_failures < 10,
        `${c.name}: pods x max_credential_failures reach Ceph's lock-out at 10`,
      );
    }
    assert.ok(
      spec.replicas >= 2 && config.audit.migrate_on_start === false && config.audit.database_url_file !== undefined,
      'several replicas: Postgres, migrated by the Job',
    );
  });

  test(`${variant}: the configuration refers to secrets by file only, and every file is mounted`, () => {
    const secrets = shape<{ data: Record<string, string> } | undefined>(objs.find((o) => o.kind === 'Secret'));
    for (const name of ['Deployment/cephgate', 'Job/cephgate-migrate']) {
      const [kind, objName] = name.split('/') as [string, string];
      const { pod } = workload(objs, kind, objName);
      const config = configOf(objs, pod);
      const files = leaves(config).filter(([k]) => /(^|\.)\w*_file$/.test(k));
      for (const [key] of leaves(config)) {
        assert.ok(!/_env$/.test(key) && !/(^|\.)(password|client_secret|encryption_key|database_url)$/.test(key), `${key}: secrets as *_file only`);
      }
      // The Job reads only the database URL; the gateway every file.
      for (const [key, path] of kind === 'Job' ? files.filter(([k]) => k === 'audit.database_url_file') : files) {
        const c = pod.containers[0]!;
        const m = c.volumeMounts?.find((x) => String(path).startsWith(`${x.mountPath}/`));
        assert.ok(m?.readOnly, `${name}: ${key} ${path} is on no read-only mount`);
        const v = pod.volumes?.find((x) => x.name === m.name);
        const file = posix.relative(m.mountPath, String(path));
        if (v?.secret?.items)
          assert.ok(
            v.secret.items.some((i) => i.path === file),
            `${name}: ${key} not among the Secret items`,
          );
        if (v?.secret && secrets) assert.ok(file in secrets.data, `${name}: ${key} names ${file}, not a key of the Secret`);
        if (v?.secret) assert.equal(v.secret.defaultMode, 0o440);
      }
    }
  });

  test(`${variant}: the policy directory is the init container's copy of the policy ConfigMap`, () => {
    const { pod } = workload(objs, 'Deployment', 'cephgate');
    const config = configOf(objs, pod);
    const init = pod.initContainers?.[0];
    const [from, to] = init?.command?.slice(-2) ?? [];
    const mount = (c: IContainer | undefined, path: string | undefined) => c?.volumeMounts?.find((m) => m.mountPath === path);
    assert.equal(to, config.policy.dir);
    assert.equal(mount(pod.containers[0], config.policy.dir)?.readOnly, true, 'the gateway cannot change its policies');
    assert.equal(mount(init, to)?.name, mount(pod.containers[0], to)?.name);
    assert.ok(pod.volumes?.find((v) => v.name === mount(init, from)?.name)?.configMap, 'copied from the policy ConfigMap');
    assert.equal(config.policy.watch, false, 'a policy change is a new ConfigMap and a rollout');
  });
}

test('overlay: the init container copies a ConfigMap volume (symlinks) to plain files the gateway loads, and refuses an empty set', () => {
  const objs = RENDERED.overlay;
  const { pod } = workload(objs, 'Deployment', 'cephgate');
  const config = configOf(objs, pod);
  const name = pod.volumes?.find((v) => v.name === 'policies-configmap')?.configMap?.name;
  const policies = shape<{ data: Record<string, string> }>(objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)).data;
  const opts = {
    catalogues: (['reef', 'pacific', 'tentacle'] as const).map(loadCatalogue),
    accounts: Object.fromEntries(config.ceph.clusters.map((c) => [c.name, c.accounts.map((a) => a.name)])),
    maxInspectBytes: 1048576,
  };
  const compiled = compilePolicySources(
    Object.entries(policies).map(([file, text]) => ({ file, text })),
    opts,
  );
  assert.ok(compiled.ok && compiled.engine.rules.length > 0, JSON.stringify(compiled.ok || compiled.issues));

  const dirs: string[] = [];
  const run = (data: Record<string, string>) => {
    // The layout of a ConfigMap volume: the keys are symlinks into a timestamped directory.
    const dir = mkdtempSync(join(tmpdir(), 'cephgate-k8s-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'from', '..2026_01_01_00_00_00.1'), { recursive: true });
    mkdirSync(join(dir, 'to'));
    symlinkSync('..2026_01_01_00_00_00.1', join(dir, 'from', '..data'));
    for (const [k, text] of Object.entries(data)) {
      writeFileSync(join(dir, 'from', '..data', k), text);
      symlinkSync(join('..data', k), join(dir, 'from', k));
    }
    const [node, ...args] = pod.initContainers?.[0]?.command ?? [];
    assert.equal(node, 'node');
    const r = spawnSync(process.execPath, [...args.slice(0, -2), join(dir, 'from'), join(dir, 'to')], { encoding: 'utf8' });
    return { status: r.status, dir: join(dir, 'to') };
  };
  const copied = run(policies);
  assert.equal(copied.status, 0);
  const loaded = loadPolicyDir(copied.dir, opts);
  assert.ok(loaded.ok && compiled.ok && loaded.engine.version === compiled.engine.version, 'the gateway loads every rule of the ConfigMap');
  assert.equal(run({}).status, 1, 'no policy file: the pod does not start');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('overlay: the migration Job and everything it needs are applied first, the gateway after', () => {
  const objs = RENDERED.overlay;
  const phase = objs.filter((o) => o.metadata.labels?.[PHASE] === 'migrate');
  const has = (kind: string, name: string | undefined) => phase.some((o) => o.kind === kind && o.metadata.name === name);
  const job = workload(objs, 'Job', 'cephgate-migrate');
  assert.ok(has('Job', 'cephgate-migrate') && has('ServiceAccount', job.pod.serviceAccountName), 'the Job and its ServiceAccount');
  for (const v of job.pod.volumes ?? []) {
    if (v.configMap) assert.ok(has('ConfigMap', v.configMap.name), `${v.name}`);
    if (v.secret) assert.ok(has('Secret', v.secret.secretName), `${v.name}`);
  }
  for (const ns of objs.filter((o) => o.kind === 'Namespace')) assert.ok(has('Namespace', ns.metadata.name), `Namespace ${ns.metadata.name}`);
  const policies = objs.filter(
    (o) => o.kind === 'NetworkPolicy' && matches(shape<{ spec: { podSelector: { matchLabels: Labels } } }>(o).spec.podSelector.matchLabels, job.labels),
  );
  for (const np of policies) assert.ok(has('NetworkPolicy', np.metadata.name), `${np.metadata.name} selects the Job's pods`);
  const egressPorts = policies
    .flatMap((np) => shape<{ spec: { egress?: { ports: { port: number }[] }[] } }>(np).spec.egress ?? [])
    .flatMap((e) => e.ports.map((p) => p.port));
  assert.deepEqual([...new Set(egressPorts)].sort(), [53, 5432], 'the Job reaches DNS and Postgres, nothing else');
  assert.ok(!has('Deployment', 'cephgate'), 'the Deployment waits for the second step');
});

test('overlay: Services, budget, monitor and network policies select the gateway pods and its named ports', () => {
  const objs = RENDERED.overlay;
  const { labels, pod, obj } = workload(objs, 'Deployment', 'cephgate');
  const ports = new Set(pod.containers[0]?.ports?.map((p) => p.name));
  const services = shape<{ metadata: { name: string; labels: Labels }; spec: { selector: Labels; ports: { name: string; targetPort: string }[] } }[]>(
    objs.filter((o) => o.kind === 'Service'),
  );
  for (const s of services) {
    assert.ok(matches(s.spec.selector, labels), s.metadata.name);
    for (const p of s.spec.ports) assert.ok(ports.has(p.targetPort), `${s.metadata.name}: ${p.targetPort}`);
  }
  assert.deepEqual(services.map((s) => s.spec.ports.map((p) => p.name).join()).sort(), ['admin', 'http'], 'the public Service has no admin port');
  const pdb = shape<{ spec: { minAvailable: number; selector: { matchLabels: Labels } } }>(objs.find((o) => o.kind === 'PodDisruptionBudget'));
  assert.ok(
    matches(pdb.spec.selector.matchLabels, labels) && pdb.spec.minAvailable === 1 && shape<{ spec: { replicas: number } }>(obj).spec.replicas > 1,
    'the budget keeps one of several gateway pods',
  );
  const sm = shape<{ spec: { selector: { matchLabels: Labels }; endpoints: { port: string; path: string }[] } }>(objs.find((o) => o.kind === 'ServiceMonitor'));
  const scraped = services.filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels));
  assert.deepEqual(
    scraped.map((s) => s.metadata.name),
    ['cephgate-admin'],
  );
  assert.deepEqual(
    sm.spec.endpoints.map((e) => `${e.port} ${e.path}`),
    ['admin /metrics'],
  );
  type Rule = { from?: { namespaceSelector?: { matchLabels: Labels }; ipBlock?: unknown }[]; ports: { port: string }[] };
  const nps = shape<{ metadata: { name: string }; spec: { podSelector: { matchLabels: Labels }; ingress?: Rule[] } }[]>(
    objs.filter((o) => o.kind === 'NetworkPolicy'),
  );
  for (const np of nps)
    assert.ok(np.metadata.name.includes('migrate') || matches(np.spec.podSelector.matchLabels, labels), `${np.metadata.name} selects no gateway pod`);
  const admin = nps.flatMap((np) => np.spec.ingress ?? []).filter((r) => r.ports.some((p) => p.port === 'admin'));
  assert.deepEqual(
    admin.map((r) => r.from),
    [[{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]],
  );
  for (const c of containers(pod))
    assert.match(String(c.image), /^[^:@]+\/[^:@]+(:(?!latest$)[\w.-]+)?(@sha256:[0-9a-f]{64})?$/, 'the overlay names a registry image by tag or digest');
});

test("extras: Rook's mgr admits the dashboard port from the gateway pods only", () => {
  const np = shape<{
    spec: { ingress: { from?: { namespaceSelector: { matchLabels: Labels }; podSelector?: { matchLabels: Labels } }[]; ports: { port: number }[] }[] };
  }>(EXTRAS.find((o) => o.kind === 'NetworkPolicy'));
  const { obj, pod, labels } = workload(RENDERED.overlay, 'Deployment', 'cephgate');
  const dashboard = Number(new URL(configOf(RENDERED.overlay, pod).ceph.clusters[0]?.dashboards[0] ?? '').port);
  const rules = np.spec.ingress.filter((r) => r.ports.some((p) => p.port === dashboard));
  assert.ok(rules.length === 1 && rules[0]?.from?.length, 'one rule for the dashboard port, and it names its peers');
  for (const f of rules[0].from) {
    assert.ok(matches(f.podSelector?.matchLabels, labels) && Object.keys(f.podSelector?.matchLabels ?? {}).length > 0, 'the gateway pods only');
    assert.deepEqual(f.namespaceSelector.matchLabels, { 'kubernetes.io/metadata.name': obj.metadata.namespace });
  }
});

test('the image carries no policies, installs production dependencies only and runs as the manifests do', () => {
  for (const s of stages) for (const l of s.lines) assert.ok(!/^(COPY|ADD)\b.*(^|[\s/])policies([\s/]|$)/.test(l), `${s.name}: ${l}`);
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
  assert.ok(ignored.includes('policies') && ignored.includes('.env'), '.dockerignore keeps policies/ and .env out of the build context');
  const deps = /^COPY --from=(\S+) \S*node_modules/m.exec(runtime.lines.join('\n'))?.[1];
  assert.ok(
    stages.find((s) => s.name === deps)?.lines.some((l) => /^RUN npm ci\b.*--omit=dev/.test(l)),
    'node_modules of the runtime come from `npm ci --omit=dev`',
  );
  const majors = new Set(stages.map((s) => /node(?:js)?:?(\d+)/.exec(s.image)?.[1]));
  const engines = Number(/\d+/.exec((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node)?.[0]);
  assert.equal(majors.size, 1, 'one Node.js line in every stage');
  assert.ok(Number([...majors][0]) >= engines, `Node.js ${[...majors][0]} satisfies engines ${engines}`);
  const config = configOf(RENDERED.overlay, workload(RENDERED.overlay, 'Deployment', 'cephgate').pod);
  const exposed = runtime.lines
    .find((l) => l.startsWith('EXPOSE'))
    ?.split(/\s+/)
    .slice(1)
    .map(Number);
  assert.deepEqual(exposed, [config.server.listen.port, config.admin.listen.port]);
  // `node` (the init container's command) resolves on the image's PATH.
  const entry = JSON.parse(runtime.lines.find((l) => l.startsWith('ENTRYPOINT'))?.slice(10) ?? '[]') as string[];
  const path = /^ENV PATH=(\S+)/m.exec(runtime.lines.join('\n'))?.[1]?.split(':') ?? [];
  assert.ok(entry[0]?.startsWith('/') && path.includes(dirname(entry[0])), `${entry[0]} on PATH ${path}`);
});

test('nothing secret is committed under deploy/kubernetes', () => {
  const yamls = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamls(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
  for (const f of yamls(K8S)) for (const o of yamlDocs(f)) assert.notEqual(o.kind, 'Secret', f);
  const ignore = readFileSync(join(K8S, 'overlays', 'example', 'secrets', '.gitignore'), 'utf8').split('\n');
  assert.ok(ignore.includes('*'), 'the secret files of the overlay are ignored by git');
});
