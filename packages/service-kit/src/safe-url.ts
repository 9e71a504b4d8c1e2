/**
 * The one URL redactor: a connection string as it may appear in a log line or an error message.
 * Dependency-free (its own subpath export, `@parley/service-kit/safe-url`) so packages below the
 * kit, such as @parley/db, print URLs the same way without loading the kit.
 */

/** `redis://:secret@host:6379` → `redis://***@host:6379`; a user without a password stays readable. */
export function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
