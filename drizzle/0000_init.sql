CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"name" text NOT NULL,
	"groups" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_by" text,
	CONSTRAINT "api_keys_prefix_unique" UNIQUE("prefix"),
	CONSTRAINT "api_keys_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "audit_chain_head" (
	"id" smallint PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_chain_head_single" CHECK ("audit_chain_head"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "audit_checkpoints" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_checkpoints_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"signature" text
);
--> statement-breakpoint
CREATE TABLE "audit_intents" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	"request_id" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"cluster" text,
	"principal_id" text,
	"principal_name" text,
	"principal_email" text,
	"principal_groups" jsonb NOT NULL,
	"auth_method" text,
	"api_key_name" text,
	"client_ip" text NOT NULL,
	"user_agent" text,
	"method" text NOT NULL,
	"raw_path" text NOT NULL,
	"route_template" text,
	"operation" text,
	"path_params" jsonb NOT NULL,
	"pools" jsonb NOT NULL,
	"query" jsonb NOT NULL,
	"body" jsonb,
	"decision_effect" text,
	"decision_rule_id" text,
	"decision_reason" text,
	"policy_version" text,
	"ceph_account" text,
	"decision_shadow" jsonb,
	"final_status" integer,
	"error_code" text
);
--> statement-breakpoint
CREATE TABLE "audit_outcomes" (
	"record_id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	"forwarded_at" timestamp with time zone,
	"completed_at" timestamp with time zone NOT NULL,
	"upstream_status" integer,
	"status" integer NOT NULL,
	"ceph_error_detail" text,
	"ceph_error_code" text,
	"ceph_task" text,
	"error_code" text
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"principal" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"refresh_token_enc" text,
	"id_token_hint" text,
	"groups_refreshed_at" timestamp with time zone NOT NULL,
	"csrf_token" text NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "audit_checkpoints_kind_seq_idx" ON "audit_checkpoints" USING btree ("kind","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_intents_seq_uq" ON "audit_intents" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "audit_intents_received_idx" ON "audit_intents" USING btree ("received_at","id");--> statement-breakpoint
CREATE INDEX "audit_intents_principal_idx" ON "audit_intents" USING btree ("principal_id","received_at");--> statement-breakpoint
CREATE INDEX "audit_intents_cluster_idx" ON "audit_intents" USING btree ("cluster","received_at");--> statement-breakpoint
CREATE INDEX "audit_intents_operation_idx" ON "audit_intents" USING btree ("operation","received_at");--> statement-breakpoint
CREATE INDEX "audit_intents_route_idx" ON "audit_intents" USING btree ("route_template","received_at");--> statement-breakpoint
CREATE INDEX "audit_intents_method_idx" ON "audit_intents" USING btree ("method","received_at");--> statement-breakpoint
CREATE INDEX "audit_intents_decision_idx" ON "audit_intents" USING btree ("decision_effect","received_at");--> statement-breakpoint
CREATE INDEX "audit_intents_groups_gin" ON "audit_intents" USING gin ("principal_groups" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "audit_intents_pools_gin" ON "audit_intents" USING gin ("pools" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "audit_intents_params_gin" ON "audit_intents" USING gin ("path_params" jsonb_path_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "audit_outcomes_seq_uq" ON "audit_outcomes" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "audit_outcomes_status_idx" ON "audit_outcomes" USING btree ("status");