/**
 * What a Redis node's failure at start means, and the error that stops the
 * worker when it is a configuration the worker cannot fix by waiting: a
 * refused password, a certificate it does not trust, TLS on one side only.
 * A node that does not answer is an outage instead, which the worker runs
 * through (the locks are an efficiency guard).
 */
import { ReplyError } from 'ioredis';
import { untrustedCertificateCodes } from '../net/certificate-codes';

/**
 * The kind of failure, as Redis or Node names it: the first word of a Redis
 * error reply (WRONGPASS, NOAUTH, NOPERM), else Node's error code (ECONNRESET,
 * SELF_SIGNED_CERT_IN_CHAIN), else the error's name.
 */
export function failureCode(error: Error): string {
  if (error instanceof ReplyError) return error.message.split(' ', 1)[0] ?? 'ERR';
  const { code } = error as NodeJS.ErrnoException;
  return typeof code === 'string' ? code : error.name;
}

const outOfDateCodes = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

export type RefusalReason =
  | 'CREDENTIALS_REFUSED'
  | 'PASSWORD_MISSING'
  | 'ACL_DENIED'
  | 'ERROR_REPLY'
  | 'CERTIFICATE_UNTRUSTED'
  | 'CERTIFICATE_OUT_OF_DATE'
  | 'CERTIFICATE_NAME_MISMATCH'
  | 'TLS_REQUIRED'
  | 'TLS_NOT_SPOKEN';

export interface NodeRefusal {
  /** The node as shownNode gives it: no user, no password. */
  readonly node: string;
  readonly reason: RefusalReason;
  /** What Redis or Node answered (failureCode). */
  readonly code: string;
  /** What is wrong and what to change, naming the variable. */
  readonly fix: string;
}

/** A refusal read from the node's answer alone, or undefined for a failure that needs a probe (or is an outage). */
export function refusalOf(
  node: string,
  error: Error,
  settings: { caFileSet: boolean },
): NodeRefusal | undefined {
  const code = failureCode(error);
  const refusal = (reason: RefusalReason, fix: string) => ({ node, reason, code, fix });
  if (code === 'WRONGPASS')
    return refusal(
      'CREDENTIALS_REFUSED',
      'the server refused the password (or the ACL user): check the password in REDIS_URL, and the user if it names one (rediss://user:password@host:port)',
    );
  if (code === 'NOAUTH')
    return refusal(
      'PASSWORD_MISSING',
      'the server requires a password and REDIS_URL gives none for this node: check the password in REDIS_URL (rediss://:password@host:port, or rediss://user:password@host:port for an ACL user)',
    );
  if (code === 'NOPERM')
    return refusal(
      'ACL_DENIED',
      "the ACL user of REDIS_URL may not run PING: grant it the commands the locks use (+ping +eval +evalsha on the worker's keys), or use another user",
    );
  if (error instanceof ReplyError)
    return refusal('ERROR_REPLY', 'the server answered PING with an error: check REDIS_URL');
  if (untrustedCertificateCodes.has(code)) return untrustedCertificate(node, code, settings);
  if (outOfDateCodes.has(code))
    return refusal(
      'CERTIFICATE_OUT_OF_DATE',
      "the server's certificate is not valid today: renew the server's certificate",
    );
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return refusal(
      'CERTIFICATE_NAME_MISMATCH',
      "the server's certificate is not issued for this host: use in REDIS_URL a host name the certificate carries, or reissue the certificate for this one",
    );
  return undefined;
}

/** A certificate that Node does not accept from this node (any verification code but a name or a date). */
export function untrustedCertificate(
  node: string,
  code: string,
  settings: { caFileSet: boolean },
): NodeRefusal {
  return {
    node,
    reason: 'CERTIFICATE_UNTRUSTED',
    code,
    fix: settings.caFileSet
      ? "the server's certificate is not signed by the CA in REDIS_CA_FILE: set REDIS_CA_FILE to the CA that signs the server"
      : "the server's certificate is not signed by a CA Node trusts: set REDIS_CA_FILE to the CA that signs the server",
  };
}

/** A redis:// node whose port answered a TLS handshake. */
export function tlsRequired(node: string, code: string): NodeRefusal {
  return {
    node,
    reason: 'TLS_REQUIRED',
    code,
    fix: 'the server speaks TLS on this port and REDIS_URL says redis://: use rediss:// in REDIS_URL (with REDIS_CA_FILE naming the CA that signs the server)',
  };
}

/** A rediss:// node whose port answered a plaintext PING. */
export function tlsNotSpoken(node: string, code: string): NodeRefusal {
  return {
    node,
    reason: 'TLS_NOT_SPOKEN',
    code,
    fix: "the server speaks Redis without TLS on this port and REDIS_URL says rediss://: use the server's TLS port in REDIS_URL, or redis:// for a server without TLS (and unset REDIS_CA_FILE)",
  };
}

/**
 * Redis refused the worker at start. Printed by `npm start` as its message
 * alone (a code, not retryable): the message names each node and its fix and
 * holds no password. Each refusal keeps the code of what the node answered,
 * not the error: ioredis attaches the failed command and its arguments to a
 * reply error (redacting those of AUTH and HELLO), and nothing the worker
 * prints should depend on that redaction to hold no password.
 */
export class RedisRefused extends Error {
  readonly code = 'REDIS_REFUSED';
  readonly retryable = false;
  constructor(readonly refusals: readonly NodeRefusal[]) {
    super(
      `Redis refused the worker at start (REDIS_URL, REDIS_CA_FILE):\n` +
        refusals.map(({ node, code, fix }) => `  - ${node} (${code}): ${fix}.`).join('\n'),
    );
    this.name = 'RedisRefused';
  }
}
