// Help texts of the CLI, one per command, kept together so `cephgate --help` and the docs agree.

export const VERSION_TEXT = (version: string) => `cephgate ${version}`;

export const MAIN_HELP = `cephgate: an SSO, policy and audit gateway for the Ceph Dashboard REST API

Usage: cephgate <command> [options]

Commands:
  serve                      run the gateway (public and admin listeners)
  migrate                    apply database migrations (audit, sessions, API keys)
  policy check|test|explain  validate, test or explain policies offline
  audit verify|export|prune  check the hash chain, export records, apply retention
  apikey create|list|revoke  manage API keys for automation
  version                    print the version

Every command takes --config PATH (else $CEPHGATE_CONFIG, else ./cephgate.yaml, else defaults).
Run 'cephgate <command> --help' for a command's options.

Exit codes: 0 success; 1 the command's check failed (policy check or tests, a denied
explain, a broken audit chain); 2 usage or configuration error, or the command could not run
(database or Ceph unreachable).`;

export const HELP: Record<string, string> = {
  serve: `Usage: cephgate serve [--config PATH]

Starts the public listener (server.listen) and the admin listener (admin.listen: /healthz,
/readyz, /metrics). SIGTERM/SIGINT: stop accepting, finish in-flight requests (up to
server.shutdown_grace_ms), exit 0. SIGHUP: reload policies (a broken edit keeps the last good set).`,
  migrate: `Usage: cephgate migrate [--config PATH]

Applies the SQL migrations in drizzle/ to the configured database (Postgres via
audit.database_url_env / DATABASE_URL, else the embedded PGlite directory audit.pglite_dir).`,
  policy: `Usage:
  cephgate policy check [--dir DIR] [--config PATH]
      Load and validate every policy file; print each problem with file, line and rule.
  cephgate policy test [--dir DIR] [--config PATH]
      Run the YAML test cases in DIR/tests; exit 1 when any fails.
  cephgate policy explain --principal JSON|@FILE --method M --path PATH [--body FILE] [--dir DIR] [--config PATH]
      Show which rules match a request and why, and the decision.`,
  audit: `Usage:
  cephgate audit verify [--key PEM] [--config PATH]
      Walk the hash chain; print the first broken link and exit 1 if any. With a key (or
      audit.signing_key_file) the signed checkpoints are checked too.
  cephgate audit export [--format ndjson|csv] [--since ISO] [--until ISO] [--principal ID]
                        [--cluster NAME] [--pool NAME] [--operation OP] [--decision allow|deny]
                        [--out FILE] [--config PATH]
      Stream records (constant memory) to FILE or standard output; a progress line on a terminal.
  cephgate audit prune [--older-than DAYS] [--config PATH]
      Delete records older than the retention period (audit.retention_days by default).`,
  apikey: `Usage:
  cephgate apikey create --name NAME --groups G1,G2 [--expires 90d] [--config PATH]
      Create a key; it is printed once and stored only as a hash.
  cephgate apikey list [--config PATH]
  cephgate apikey revoke <id|name> [--config PATH]`,
  version: 'Usage: cephgate version',
};
