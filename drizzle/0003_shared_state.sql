CREATE TABLE "native_login_counters" (
	"key" text PRIMARY KEY NOT NULL,
	"failures" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"pending" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"consecutive" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "native_sessions" (
	"key" text PRIMARY KEY NOT NULL,
	"cluster" text NOT NULL,
	"username" text NOT NULL,
	"ceph_token_enc" text NOT NULL,
	"permissions" jsonb NOT NULL,
	"pwd_expiration_date" bigint,
	"sso" boolean NOT NULL,
	"pwd_update_required" boolean NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"points" integer DEFAULT 0 NOT NULL,
	"expire" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "refresh_generation" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "refresh_lease_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "native_sessions_expires_idx" ON "native_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "native_sessions_created_idx" ON "native_sessions" USING btree ("created_at");