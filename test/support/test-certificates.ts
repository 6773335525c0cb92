/**
 * Certificates for a scratch TLS server, made with openssl: a CA, a server
 * certificate it signs for 127.0.0.1 and localhost, and a second CA that
 * signs nothing (for untrusted-certificate tests). Valid for two days.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, tail } from '../../infra/services/shell';

export interface TestCertificates {
  /** The CA that signs the server certificate (PEM). */
  caFile: string;
  /** A CA of its own that signs nothing the server holds (PEM). */
  otherCaFile: string;
  serverCertFile: string;
  serverKeyFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const result = await run('openssl', args, { cwd, timeoutMs: 60_000 });
  if (result.code !== 0)
    throw new Error(`openssl ${args[0]} failed in ${cwd}:\n${tail(result.output, 10)}`);
}

const selfSignedCa = (name: string, dir: string) =>
  openssl(
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2'],
      ...['-subj', `/CN=escrow-worker test ${name}`],
      ...['-addext', 'basicConstraints=critical,CA:TRUE'],
      ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      ...['-keyout', `${name}.key`, '-out', `${name}.pem`],
    ],
    dir,
  );

/** Writes the files into `dir` (server.pem, server.key, ca.pem, other-ca.pem, ...). */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  await selfSignedCa('ca', dir);
  await selfSignedCa('other-ca', dir);
  writeFileSync(
    path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  await openssl(
    [
      ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost'],
      ...['-keyout', 'server.key', '-out', 'server.csr'],
    ],
    dir,
  );
  await openssl(
    [
      ...['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key'],
      ...['-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem'],
    ],
    dir,
  );
  return {
    caFile: path.join(dir, 'ca.pem'),
    otherCaFile: path.join(dir, 'other-ca.pem'),
    serverCertFile: path.join(dir, 'server.pem'),
    serverKeyFile: path.join(dir, 'server.key'),
  };
}
