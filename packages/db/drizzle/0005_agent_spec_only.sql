ALTER TABLE "agents" ALTER COLUMN "spec" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "agents" DROP COLUMN "name";--> statement-breakpoint
ALTER TABLE "agents" DROP COLUMN "system_prompt";--> statement-breakpoint
ALTER TABLE "agents" DROP COLUMN "model";--> statement-breakpoint
ALTER TABLE "agents" DROP COLUMN "temperature";--> statement-breakpoint
ALTER TABLE "agents" DROP COLUMN "tools";--> statement-breakpoint
ALTER TABLE "agents" DROP COLUMN "flow";--> statement-breakpoint
ALTER TABLE "agents" DROP COLUMN "double_texting";--> statement-breakpoint
ALTER TABLE "agents" DROP COLUMN "max_run_ms";