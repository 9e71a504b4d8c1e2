// The migration service: moves closed or idle conversations from Redis to PostgreSQL. Wiring only.
import { runService } from '@parley/service-kit';
import { createMigrationApp, type MigrationApp } from './app.js';
import { env } from './env.js';

let app: MigrationApp | undefined;

await runService({
  name: 'migration',
  env,
  service: 'migration',
  handlers: (kit) => (app = createMigrationApp(kit)).handlers,
  start: () => app?.start(),
});
