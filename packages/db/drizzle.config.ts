import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` diffs the schema against drizzle/meta and writes a new SQL migration; commit it.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: './drizzle',
  strict: true,
});
