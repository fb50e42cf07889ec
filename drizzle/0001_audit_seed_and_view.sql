-- Custom migration: the genesis chain head (prev_hash of the first event is 64 zeros) and a
-- read-only view joining each intent with its outcome, for operators querying with psql.
INSERT INTO "audit_chain_head" ("id", "seq", "hash") VALUES (1, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE VIEW "audit_log" AS
SELECT i.*,
  o."forwarded_at", o."completed_at", o."upstream_status", o."status" AS "outcome_status",
  o."ceph_error_detail", o."ceph_error_code", o."ceph_task", o."error_code" AS "outcome_error_code",
  o."seq" AS "outcome_seq", o."hash" AS "outcome_hash",
  COALESCE(o."status", i."final_status") AS "status",
  CASE WHEN o."record_id" IS NOT NULL THEN 'complete'
       WHEN i."final_status" IS NOT NULL THEN 'refused'
       ELSE 'unknown' END AS "outcome"
FROM "audit_intents" i LEFT JOIN "audit_outcomes" o ON o."record_id" = i."id";
