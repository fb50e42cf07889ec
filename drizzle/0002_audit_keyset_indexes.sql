DROP INDEX "audit_intents_principal_idx";--> statement-breakpoint
DROP INDEX "audit_intents_cluster_idx";--> statement-breakpoint
DROP INDEX "audit_intents_operation_idx";--> statement-breakpoint
DROP INDEX "audit_intents_route_idx";--> statement-breakpoint
DROP INDEX "audit_intents_method_idx";--> statement-breakpoint
DROP INDEX "audit_intents_decision_idx";--> statement-breakpoint
CREATE INDEX "audit_intents_principal_idx" ON "audit_intents" USING btree ("principal_id","received_at","id");--> statement-breakpoint
CREATE INDEX "audit_intents_cluster_idx" ON "audit_intents" USING btree ("cluster","received_at","id");--> statement-breakpoint
CREATE INDEX "audit_intents_operation_idx" ON "audit_intents" USING btree ("operation","received_at","id");--> statement-breakpoint
CREATE INDEX "audit_intents_route_idx" ON "audit_intents" USING btree ("route_template","received_at","id");--> statement-breakpoint
CREATE INDEX "audit_intents_method_idx" ON "audit_intents" USING btree ("method","received_at","id");--> statement-breakpoint
CREATE INDEX "audit_intents_decision_idx" ON "audit_intents" USING btree ("decision_effect","received_at","id");