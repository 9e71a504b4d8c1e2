ALTER TABLE "agent_runs" ADD COLUMN "pause" jsonb;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD COLUMN "pause_expires_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "agent_runs_paused_idx" ON "agent_runs" USING btree ("pause_expires_at") WHERE "agent_runs"."status" = 'PAUSED';--> statement-breakpoint
CREATE INDEX "agent_runs_paused_conversation_idx" ON "agent_runs" USING btree ("conversation_id") WHERE "agent_runs"."status" = 'PAUSED';--> statement-breakpoint
-- LangGraph's checkpoint tables (agent-execution's PostgresSaver, @langchain/langgraph-checkpoint-postgres 1.0.5), written
-- by hand to match what its setup() creates, in a schema of their own. The rows of checkpoint_migrations tell a later
-- setup() that its five migrations (0-4) are applied, so it changes nothing here.
CREATE SCHEMA IF NOT EXISTS "langgraph";--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "langgraph"."checkpoint_migrations" (
  "v" integer PRIMARY KEY
);--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "langgraph"."checkpoints" (
  "thread_id" text NOT NULL,
  "checkpoint_ns" text NOT NULL DEFAULT '',
  "checkpoint_id" text NOT NULL,
  "parent_checkpoint_id" text,
  "type" text,
  "checkpoint" jsonb NOT NULL,
  "metadata" jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY ("thread_id", "checkpoint_ns", "checkpoint_id")
);--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "langgraph"."checkpoint_blobs" (
  "thread_id" text NOT NULL,
  "checkpoint_ns" text NOT NULL DEFAULT '',
  "channel" text NOT NULL,
  "version" text NOT NULL,
  "type" text NOT NULL,
  "blob" bytea,
  PRIMARY KEY ("thread_id", "checkpoint_ns", "channel", "version")
);--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "langgraph"."checkpoint_writes" (
  "thread_id" text NOT NULL,
  "checkpoint_ns" text NOT NULL DEFAULT '',
  "checkpoint_id" text NOT NULL,
  "task_id" text NOT NULL,
  "idx" integer NOT NULL,
  "channel" text NOT NULL,
  "type" text,
  "blob" bytea NOT NULL,
  PRIMARY KEY ("thread_id", "checkpoint_ns", "checkpoint_id", "task_id", "idx")
);--> statement-breakpoint
INSERT INTO "langgraph"."checkpoint_migrations" ("v") VALUES (0), (1), (2), (3), (4) ON CONFLICT DO NOTHING;
