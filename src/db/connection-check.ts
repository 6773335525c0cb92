/**
 * A failed connection to Postgres that no retry can fix — a wrong password,
 * a role the server does not admit this way, a certificate the client does
 * not trust, a database that is not there — as one error naming
 * DATABASE_URL and the fix. Everything else (refused, timed out, starting
 * up) is left to the callers' retries. Classified by the SQLSTATE or Node's
 * TLS code, never by the wording of a message; the password is never shown.
 */
import type { Knex } from 'knex';
import { untrustedCertificateCodes } from '../net/certificate-codes';

export type DatabaseConnectionCode =
  | 'DATABASE_AUTHENTICATION_FAILED'
  | 'DATABASE_CERTIFICATE_UNTRUSTED'
  | 'DATABASE_CERTIFICATE_INVALID'
  | 'DATABASE_NOT_FOUND';

export class DatabaseConnectionError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: DatabaseConnectionCode,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseConnectionError';
  }
}

const fileVariable = 'DATABASE_URL (or the file DATABASE_URL_FILE names)';

/** Where DATABASE_URL points, in words that carry no password. */
function target(databaseUrl: string) {
  const url = new URL(databaseUrl);
  return {
    at: `${url.hostname}:${url.port || '5432'}${url.pathname}`,
    role: decodeURIComponent(url.username) || '(the default user)',
    caFile: url.searchParams.get('sslrootcert'),
  };
}

/** The error as a DatabaseConnectionError when a retry cannot fix it; undefined otherwise. */
export function connectionFailure(
  error: unknown,
  databaseUrl: string,
): DatabaseConnectionError | undefined {
  // Not `instanceof Error`: Node's TLS errors may come from another realm (a test's vm context).
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== 'string') return undefined;
  const { at, role, caFile } = target(databaseUrl);
  const said = `(${code}: ${String(message)})`;
  const fail = (kind: DatabaseConnectionCode, message: string) =>
    new DatabaseConnectionError(kind, message, { cause: error });
  if (code === '28P01')
    return fail(
      'DATABASE_AUTHENTICATION_FAILED',
      `Postgres at ${at} refused the password of role "${role}" ${said}. Fix ${fileVariable}: ` +
        `give the role's current password (percent-encoded), or set a new one as the owner with ` +
        `ALTER ROLE "${role}" PASSWORD '…'.`,
    );
  if (code === '28000')
    return fail(
      'DATABASE_AUTHENTICATION_FAILED',
      `Postgres at ${at} does not admit role "${role}" as DATABASE_URL connects ${said}. Fix ` +
        `${fileVariable}: a server that accepts only TLS needs ?sslmode=verify-full&sslrootcert=` +
        `/path/to/ca.pem on it; otherwise name a role that exists, or have pg_hba.conf admit this one.`,
    );
  if (code === '3D000')
    return fail(
      'DATABASE_NOT_FOUND',
      `Postgres at ${at} has no such database ${said}. Fix ${fileVariable}, or create the ` +
        'database and run `npm run migrate` (locally `npm run services:up` creates `escrow`).',
    );
  if (untrustedCertificateCodes.has(code))
    return fail(
      'DATABASE_CERTIFICATE_UNTRUSTED',
      `Postgres at ${at} presented a certificate DATABASE_URL does not trust ${said}. Fix ` +
        (caFile === null
          ? `${fileVariable}: name the CA that signs the server's certificate, as ` +
            '?sslmode=verify-full&sslrootcert=/path/to/ca.pem.'
          : `${fileVariable}: its sslrootcert (${caFile}) is not the CA that signs the server's ` +
            'certificate; name the PEM file of that CA.'),
    );
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code.startsWith('CERT_'))
    return fail(
      'DATABASE_CERTIFICATE_INVALID',
      `Postgres at ${at} presented a certificate that is not valid for it ${said}. Fix ` +
        `${fileVariable}: connect by a host name the certificate lists, or have the server's ` +
        'certificate renewed or issued for this host.',
    );
  return undefined;
}

/**
 * One round trip at start: a failure a retry cannot fix is thrown as a
 * DatabaseConnectionError (the process stops, naming the fix); any other
 * failure is left to the retries of the work that follows.
 */
export async function checkDatabaseConnection(db: Knex, databaseUrl: string): Promise<void> {
  try {
    await db.raw('SELECT 1');
  } catch (error) {
    const failure = connectionFailure(error, databaseUrl);
    if (failure) throw failure;
  }
}
