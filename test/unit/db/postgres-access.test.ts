/**
 * The pure parts of Postgres access: the worker's grant list, the start-up
 * classification of connection failures, and the TLS parameters DATABASE_URL
 * carries. The grants themselves are proven on a real cluster in
 * test/integration/postgres-least-privilege.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { databaseUrlProblems } from '../../../src/config/database-url';
import { connectionFailure } from '../../../src/db/connection-check';
import { describeGrant, expectedPrivilege, workerGrants } from '../../../src/db/worker-grants';
import { paymentMergeColumns } from '../../../src/pipeline/payments';

const url = 'postgres://escrow_worker:s3cret-pass@db.internal:6432/escrow';

describe('the worker grants', () => {
  test('the ledger is SELECT and INSERT only; an account changes only its balance and version', () => {
    for (const table of ['ledger_transactions', 'ledger_entries', 'releases'])
      expect(workerGrants[table]).toMatchObject({ table: ['SELECT', 'INSERT'] });
    expect(workerGrants.ledger_entries!.updateColumns).toBeUndefined();
    expect(workerGrants.accounts).toEqual({
      table: ['SELECT', 'INSERT'],
      updateColumns: ['balance_minor', 'version'],
    });
    expect(expectedPrivilege(workerGrants.accounts!, 'UPDATE', 'balance_minor')).toBe(true);
    expect(expectedPrivilege(workerGrants.accounts!, 'UPDATE', 'code')).toBe(false);
    expect(expectedPrivilege(workerGrants.accounts!, 'DELETE', null)).toBe(false);
    expect(expectedPrivilege(workerGrants.milestones!, 'UPDATE', 'state')).toBe(true);
  });

  test('DELETE only where the relay prunes the outbox; TRUNCATE nowhere', () => {
    const deleting = Object.entries(workerGrants).filter(([, grant]) =>
      grant.table.includes('DELETE'),
    );
    expect(deleting.map(([table]) => table)).toEqual(['outbox']);
    for (const grant of Object.values(workerGrants))
      expect(expectedPrivilege(grant, 'TRUNCATE', null)).toBe(false);
  });

  test("a payment's columns the worker may update are the ones a later decision merges", () => {
    expect(workerGrants.payments!.updateColumns).toEqual([...paymentMergeColumns]);
  });

  test('each table is described in one line, as migrate prints it', () => {
    expect(describeGrant('outbox', workerGrants.outbox!)).toBe(
      'outbox: SELECT, INSERT, DELETE, UPDATE (published_at)',
    );
    expect(describeGrant('ledger_transactions', workerGrants.ledger_transactions!)).toBe(
      'ledger_transactions: SELECT, INSERT, USAGE on the sequence of transaction_id',
    );
    expect(describeGrant('knex_migrations', workerGrants.knex_migrations!)).toBe(
      'knex_migrations: nothing',
    );
  });
});

describe('connection failures a retry cannot fix', () => {
  const failing = (code: string, message: string) => Object.assign(new Error(message), { code });

  test('a wrong password names the role, the address, DATABASE_URL and the fix, never the password', () => {
    const failure = connectionFailure(
      failing('28P01', 'password authentication failed for user "escrow_worker"'),
      url,
    );
    expect(failure).toMatchObject({ code: 'DATABASE_AUTHENTICATION_FAILED', retryable: false });
    expect(failure!.message).toBe(
      'Postgres at db.internal:6432/escrow refused the password of role "escrow_worker" (28P01: ' +
        'password authentication failed for user "escrow_worker"). Fix DATABASE_URL (or the file ' +
        "DATABASE_URL_FILE names): give the role's current password (percent-encoded), or set a new " +
        `one as the owner with ALTER ROLE "escrow_worker" PASSWORD '…'.`,
    );
    expect(failure!.message).not.toContain('s3cret-pass');
  });

  test('an untrusted certificate says which CA to name, with or without sslrootcert', () => {
    const untrusted = failing(
      'SELF_SIGNED_CERT_IN_CHAIN',
      'self-signed certificate in certificate chain',
    );
    expect(connectionFailure(untrusted, url)!.message).toContain(
      "name the CA that signs the server's certificate, as ?sslmode=verify-full&sslrootcert=/path/to/ca.pem.",
    );
    const withCa = `${url}?sslmode=verify-full&sslrootcert=%2Fetc%2Fescrow%2Fca.pem`;
    expect(connectionFailure(untrusted, withCa)).toMatchObject({
      code: 'DATABASE_CERTIFICATE_UNTRUSTED',
    });
    expect(connectionFailure(untrusted, withCa)!.message).toContain(
      "its sslrootcert (/etc/escrow/ca.pem) is not the CA that signs the server's certificate",
    );
    expect(
      connectionFailure(failing('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match'), url),
    ).toMatchObject({ code: 'DATABASE_CERTIFICATE_INVALID' });
  });

  test('what a retry may fix is left to the retries', () => {
    for (const code of ['ECONNREFUSED', 'ETIMEDOUT', '57P03', '40001'])
      expect(connectionFailure(failing(code, 'later'), url)).toBeUndefined();
    expect(connectionFailure(new Error('no code'), url)).toBeUndefined();
    expect(connectionFailure('not an error', url)).toBeUndefined();
  });
});

describe("DATABASE_URL's TLS parameters", () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'escrow-database-url-'));
  const ca = path.join(folder, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');

  test('verify-full with a readable CA file, or no TLS parameter at all, is fine', () => {
    expect(databaseUrlProblems(`${url}?sslmode=verify-full&sslrootcert=${ca}`)).toEqual([]);
    expect(databaseUrlProblems(url)).toEqual([]);
  });

  test('an unreadable file, an unknown sslmode and half a client certificate are named', () => {
    expect(
      databaseUrlProblems(
        `${url}?sslmode=verify_full&sslrootcert=${folder}/missing.pem&sslcert=${ca}`,
      ),
    ).toEqual([
      'DATABASE_URL: sslmode="verify_full" is not one of disable, prefer, require, verify-ca, ' +
        'verify-full, no-verify; use verify-full (with sslrootcert) to encrypt and check the server.',
      `DATABASE_URL: sslrootcert="${folder}/missing.pem" cannot be read (ENOENT); name the PEM file ` +
        'of the CA that signs the Postgres server, readable by the worker.',
      'DATABASE_URL: sslcert and sslkey go together (a client certificate): set both, or neither.',
    ]);
  });
});
