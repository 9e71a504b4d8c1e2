ALTER TABLE "agent_runs" ADD COLUMN "steps" jsonb;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "steps_omitted" integer;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "text" text;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "message_id" text;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "end_seq" integer;--> statement-breakpoint
CREATE INDEX "agent_runs_tenant_owner_created_idx" ON "agent_runs" USING btree ("tenant_id","owner_id","created_at" DESC NULLS LAST,"run_id" DESC NULLS LAST);