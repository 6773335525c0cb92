/**
 * The TLS settings DATABASE_URL carries, checked at start. node-postgres reads
 * them from the URL itself (pg-connection-string): `sslmode` and the files
 * `sslrootcert` (the CA that signs the server), `sslcert` and `sslkey` (a
 * client certificate), which it reads at each new connection — a file that
 * cannot be read would fail there, mid-run; and an sslmode it does not know
 * it would silently take for verify-full. Only the parameters are shown,
 * never the URL (it may carry a password).
 */
import { readFileSync } from 'node:fs';

// What pg 8 accepts. It treats prefer, require and verify-ca as verify-full
// (and warns); no-verify encrypts without checking the certificate.
const sslModes = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

const fileParameters = {
  sslrootcert: 'the PEM file of the CA that signs the Postgres server',
  sslcert: 'the PEM file of the client certificate',
  sslkey: "the PEM file of the client certificate's key",
} as const;

export function databaseUrlProblems(databaseUrl: string): string[] {
  const parameters = new URL(databaseUrl).searchParams;
  const problems: string[] = [];
  const mode = parameters.get('sslmode');
  if (mode !== null && !sslModes.includes(mode))
    problems.push(
      `DATABASE_URL: sslmode=${JSON.stringify(mode)} is not one of ${sslModes.join(', ')}; ` +
        'use verify-full (with sslrootcert) to encrypt and check the server.',
    );
  for (const [name, what] of Object.entries(fileParameters)) {
    const path = parameters.get(name);
    if (path === null) continue;
    try {
      readFileSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(
        `DATABASE_URL: ${name}=${JSON.stringify(path)} cannot be read (${code}); name ${what}, readable by the worker.`,
      );
    }
  }
  if ((parameters.get('sslcert') === null) !== (parameters.get('sslkey') === null))
    problems.push(
      'DATABASE_URL: sslcert and sslkey go together (a client certificate): set both, or neither.',
    );
  return problems;
}
