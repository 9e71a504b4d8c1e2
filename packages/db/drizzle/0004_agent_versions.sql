CREATE TABLE "agent_versions" (
	"tenant_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"version" integer NOT NULL,
	"spec" jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_versions_tenant_id_agent_id_version_pk" PRIMARY KEY("tenant_id","agent_id","version")
);
--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "spec" jsonb;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agent_versions" ADD CONSTRAINT "agent_versions_tenant_id_agent_id_agents_tenant_id_id_fk" FOREIGN KEY ("tenant_id","agent_id") REFERENCES "public"."agents"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
UPDATE "agents" SET "spec" = jsonb_build_object(
	'name', "name", 'systemPrompt', "system_prompt", 'greeting', '', 'model', "model", 'temperature', "temperature",
	'tools', to_jsonb("tools"), 'flow', "flow", 'doubleTexting', "double_texting", 'maxRunMs', "max_run_ms"
);--> statement-breakpoint
INSERT INTO "agent_versions" ("tenant_id", "agent_id", "version", "spec", "created_at")
	SELECT "tenant_id", "id", 1, "spec", "updated_at" FROM "agents" ON CONFLICT DO NOTHING;
