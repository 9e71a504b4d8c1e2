CREATE TABLE "chatwoot_inboxes" (
	"account_id" integer NOT NULL,
	"inbox_id" integer NOT NULL,
	"tenant_id" text NOT NULL,
	"agent_id" text,
	"base_url" text NOT NULL,
	"api_token" text NOT NULL,
	"webhook_secret" text,
	"inbox_token" text,
	"answer_statuses" text[] DEFAULT '{pending}'::text[] NOT NULL,
	"handoff_note" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chatwoot_inboxes_account_id_inbox_id_pk" PRIMARY KEY("account_id","inbox_id")
);
--> statement-breakpoint
ALTER TABLE "chatwoot_inboxes" ADD CONSTRAINT "chatwoot_inboxes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;