// Finds PostgreSQL: DATABASE_URL, else postgres@127.0.0.1:5432/parley; creates the database when missing.
import { safe } from './redis.mjs';
import { workspaceRequire } from './workspace-require.mjs';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/parley';

async function tryConnect(pg, url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return err;
  } finally {
    await client.end().catch(() => {
      /* the answer is known; a failed close ends with the process */
    });
  }
}

export async function findPostgres(root, env, say) {
  const pg = workspaceRequire(root, 'pg');
  const url = env.DATABASE_URL || DEFAULT_URL;
  const err = await tryConnect(pg, url);
  if (!err) return { url, note: env.DATABASE_URL ? 'from DATABASE_URL' : 'local, port 5432' };
  // 3D000: invalid_catalog_name — the server is fine, only our database is missing.
  if (err.code === '3D000') {
    const u = new URL(url);
    const name = decodeURIComponent(u.pathname.slice(1));
    u.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: u.toString() });
    try {
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      say(`created database ${name}`);
      return { url, note: `database ${name} created` };
    } catch (e) {
      fail(`database ${name} does not exist and could not be created (${e.message}); create it or change DATABASE_URL`);
    } finally {
      await admin.end().catch(() => {
        /* the database exists or the error above was thrown; closing is best effort */
      });
    }
  }
  const why = err.code ?? err.message;
  fail(
    env.DATABASE_URL
      ? `DATABASE_URL ${safe(url)} is not reachable (${why}); start PostgreSQL there or change DATABASE_URL`
      : [
          `PostgreSQL is not reachable at 127.0.0.1:5432 as user postgres (${why}).`,
          '  Start it (Debian/Ubuntu: sudo pg_ctlcluster <version> main start; macOS: brew services start postgresql),',
          '  or run one in Docker: docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16,',
          '  or set DATABASE_URL=postgres://user:password@host:5432/parley.',
        ].join('\n'),
  );
}

function fail(message) {
  console.error(`\n${message}\n`);
  process.exit(1);
}
