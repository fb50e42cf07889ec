// Help texts of the CLI, one per command and one per subcommand, kept together so `cephgate --help`,
// `cephgate policy --help` and `cephgate policy explain --help` agree with each other and the docs.

export const VERSION_TEXT = (version: string) => `cephgate ${version}`;

export const MAIN_HELP = `cephgate: an SSO, policy and audit gateway for the Ceph Dashboard REST API

Usage: cephgate <command> [options]

Commands:
  serve                      run the gateway (public and admin listeners)
  config check [--probe]     report every problem of a configuration at once; --probe also reaches
                             the dashboards, the identity providers and the database
  migrate                    apply database migrations (audit, sessions, API keys)
  policy check|test|explain  validate, test or explain policies offline
  audit verify|export|prune  check the hash chain, export records, apply retention
  apikey create|list|revoke  manage API keys for automation
  version                    print the version

Every command takes --config PATH (else $CEPHGATE_CONFIG, else ./cephgate.yaml, else defaults).
Run 'cephgate <command> --help' (or 'cephgate <command> <subcommand> --help') for its options.

Exit codes: 0 success; 1 the command's check failed (config check, policy check or tests, a denied
explain, a broken audit chain); 2 usage or configuration error, or the command could not run
(database or Ceph unreachable).`;

/** Subcommands: their usage line(s) and what they do. The group help lists them all. */
const VERBS: Record<string, Record<string, string>> = {
  config: {
    check: `  cephgate config check [--probe] [--json] [--config PATH]
      Read the configuration as serve would and report every problem at once, each with its file
      and line (or the CEPHGATE__... variable that set it): the schema, references between keys,
      secrets (present and well-formed), files (readable, valid PEM), URL schemes, duplicate names,
      the policies. --probe also reaches each dashboard (active mgr, Ceph release), each identity
      provider (discovery and JWKS) and the database (reachable, migrations), saying why when not.
      Exit 0: no errors (warnings allowed); 1: errors (serve would refuse to start); 2: the file
      could not be read.`,
  },
  policy: {
    check: `  cephgate policy check [--dir DIR] [--config PATH]
      Load and validate every policy file; print each problem with file, line and rule.
      Exit 1 when a policy is invalid, 2 when the directory cannot be read.`,
    test: `  cephgate policy test [--dir DIR] [--config PATH]
      Run the YAML test cases in DIR/tests; exit 1 when any fails.`,
    explain: `  cephgate policy explain --principal JSON|@FILE --method M --path PATH [--body FILE] [--json] [--dir DIR] [--config PATH]
      Show which rules match a request and why, and the decision (exit 0 allow, 1 deny).
      M: GET, HEAD (decided as its GET, as the gateway does), POST, PUT, PATCH, DELETE.`,
  },
  audit: {
    verify: `  cephgate audit verify [--key PEM] [--config PATH]
      Walk the hash chain; print the first broken link and exit 1 if any. With a key (or
      audit.signing_key_file) the signed checkpoints are checked too.`,
    export: `  cephgate audit export [--format ndjson|csv] [--since ISO] [--until ISO] [--principal ID]
                        [--cluster NAME] [--pool NAME] [--operation OP] [--decision allow|deny]
                        [--out FILE] [--config PATH]
      Stream records (constant memory) to FILE or standard output; a progress line on a terminal.`,
    prune: `  cephgate audit prune [--older-than DAYS] [--dry-run] [--config PATH]
      Delete records older than DAYS (at least 1; default audit.retention_days). --dry-run counts
      what would be removed and removes nothing.`,
  },
  apikey: {
    create: `  cephgate apikey create --name NAME (--groups G1,G2 | --no-groups) [--expires 90d] [--config PATH]
      Create a key; it is printed once and stored only as a hash. --groups names the groups its
      policies match; a key with --no-groups is matched only by rules naming it (subjects.api_keys).
      Recorded in the audit log with the operating-system user who ran the command.`,
    list: `  cephgate apikey list [--config PATH]
      One JSON line per key (never the key itself).`,
    revoke: `  cephgate apikey revoke <id|name> [--config PATH]
      Revoke a key at once (recorded in the audit log); revoking a revoked key says so and changes nothing.`,
  },
};

const PGLITE_NOTE = `
With the embedded PGlite store (no Postgres URL configured) the database belongs to one process:
while 'cephgate serve' runs on it these commands refuse and say what to do instead.`;

const group = (name: string, note = ''): string => `Usage:\n${Object.values(VERBS[name] ?? {}).join('\n')}${note}`;

export const HELP: Record<string, string> = {
  serve: `Usage: cephgate serve [--workers N|auto] [--config PATH]

Checks the configuration as 'cephgate config check' does (without probes) and refuses to start,
exit 2, on any error. Then starts the public listener (server.listen) and the admin listener
(admin.listen: /healthz, /readyz, /metrics). SIGTERM/SIGINT: stop accepting, finish in-flight
requests (up to server.shutdown_grace_ms), exit 0. SIGHUP: reload policies (a broken edit keeps
the last good set). Every line, fatal errors included, goes to the log (logging.format).

--workers N|auto: run N worker processes (auto: one per CPU core) sharing the listeners
(node:cluster); a worker that dies is started again; SIGTERM stops them all gracefully. Each
worker has its own caches, Ceph tokens and counters (docs/configuration.md, "Workers"). Needs
Postgres: PGlite is one process's database.`,
  migrate: `Usage: cephgate migrate [--config PATH]

Applies the SQL migrations in drizzle/ to the configured database (Postgres via
audit.database_url_env / DATABASE_URL, else the embedded PGlite directory audit.pglite_dir), and
says which database it used and how many migrations it applied.${PGLITE_NOTE}`,
  config: group('config'),
  policy: group('policy'),
  audit: group('audit', PGLITE_NOTE),
  apikey: group('apikey', PGLITE_NOTE),
  version: 'Usage: cephgate version',
};

for (const [name, verbs] of Object.entries(VERBS)) for (const [verb, text] of Object.entries(verbs)) HELP[`${name} ${verb}`] = `Usage:\n${text}`;

/** The help of `cephgate <command> [<verb>] --help`: the subcommand's own when it has one. */
export const helpOf = (command: string, verb: string | undefined): string =>
  (verb !== undefined ? HELP[`${command} ${verb}`] : undefined) ?? HELP[command] ?? MAIN_HELP;
