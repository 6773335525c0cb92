/**
 * Certificates for the scratch TLS servers of the tests, made with openssl in
 * a folder the caller owns: a CA (basicConstraints CA:TRUE), and server
 * certificates it signs for 127.0.0.1 and localhost. A second, unrelated CA
 * is how a test shows a client refusing a server it should not trust.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../infra/services/shell';

export interface CertificateAuthority {
  /** The CA's certificate (PEM): what a client's *_CA_FILE names. */
  certFile: string;
  keyFile: string;
  dir: string;
  name: string;
}

export interface ServerCertificate {
  certFile: string;
  keyFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const result = await run('openssl', args, { cwd, timeoutMs: 30_000 });
  if (result.code !== 0)
    throw new Error(`openssl ${args[0]} failed (${result.code}): ${result.output.slice(-500)}`);
}

export async function makeCertificateAuthority(
  dir: string,
  name: string,
): Promise<CertificateAuthority> {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    dir,
  );
  return { certFile, keyFile, dir, name };
}

/**
 * A server certificate signed by `ca`, for 127.0.0.1 and localhost unless
 * `altNames` says otherwise (a certificate without a name, to show a client
 * refusing a host the certificate is not for).
 */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  name: string,
  altNames = 'IP:127.0.0.1,DNS:localhost',
): Promise<ServerCertificate> {
  const keyFile = path.join(ca.dir, `${name}.key`);
  const csr = path.join(ca.dir, `${name}.csr`);
  const certFile = path.join(ca.dir, `${name}.pem`);
  const extensions = path.join(ca.dir, `${name}.ext`);
  writeFileSync(
    extensions,
    `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  await openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      keyFile,
      '-out',
      csr,
    ],
    ca.dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      extensions,
      '-out',
      certFile,
    ],
    ca.dir,
  );
  return { certFile, keyFile };
}

/** What a scratch TLS server needs: its CA, its certificate and key, and a CA that signs nothing. */
export interface TestCertificates {
  /** The CA that signs the server certificate (PEM). */
  caFile: string;
  /** A CA of its own that signs nothing the server holds (PEM). */
  otherCaFile: string;
  serverCertFile: string;
  serverKeyFile: string;
}

/** Writes them into `dir`: ca.pem, other-ca.pem, server.pem, server.key (and their keys). */
export async function makeTestCertificates(
  dir: string,
  altNames?: string,
): Promise<TestCertificates> {
  const ca = await makeCertificateAuthority(dir, 'ca');
  const other = await makeCertificateAuthority(dir, 'other-ca');
  const server = await issueServerCertificate(ca, 'server', altNames);
  return {
    caFile: ca.certFile,
    otherCaFile: other.certFile,
    serverCertFile: server.certFile,
    serverKeyFile: server.keyFile,
  };
}
