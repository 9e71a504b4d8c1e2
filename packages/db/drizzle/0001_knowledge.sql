CREATE TABLE "knowledge_chunks" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"knowledge_base_id" text NOT NULL,
	"document_id" text NOT NULL,
	"ordinal" integer NOT NULL,
	"heading" text DEFAULT '' NOT NULL,
	"text" text NOT NULL,
	"token_count" integer NOT NULL,
	"language" "regconfig" NOT NULL,
	"embedding" real[] NOT NULL,
	"tsv" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector("knowledge_chunks"."language", "knowledge_chunks"."heading"), 'A') || setweight(to_tsvector("knowledge_chunks"."language", "knowledge_chunks"."text"), 'B')) STORED NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "knowledge_documents" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"knowledge_base_id" text DEFAULT 'default' NOT NULL,
	"title" text NOT NULL,
	"source" text,
	"language" "regconfig" NOT NULL,
	"content_hash" text NOT NULL,
	"embedding_model" text NOT NULL,
	"chunk_count" integer NOT NULL,
	"token_count" integer NOT NULL,
	"char_count" integer NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD CONSTRAINT "knowledge_chunks_document_id_knowledge_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."knowledge_documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "knowledge_chunks_tsv_idx" ON "knowledge_chunks" USING gin ("tsv");--> statement-breakpoint
CREATE INDEX "knowledge_chunks_tenant_recent_idx" ON "knowledge_chunks" USING btree ("tenant_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "knowledge_chunks_document_idx" ON "knowledge_chunks" USING btree ("document_id","ordinal");--> statement-breakpoint
CREATE UNIQUE INDEX "knowledge_documents_source_uq" ON "knowledge_documents" USING btree ("tenant_id","knowledge_base_id","source") WHERE "knowledge_documents"."source" is not null;--> statement-breakpoint
CREATE INDEX "knowledge_documents_tenant_created_idx" ON "knowledge_documents" USING btree ("tenant_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);