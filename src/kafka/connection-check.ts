/**
 * The worker's first Kafka connection, made once at start by a probe of its
 * own: a wrong password, an untrusted certificate or a security protocol that
 * does not match the listener is a setting to fix, so it ends the start at
 * once with a message naming the variable and the fix, instead of the running
 * clients' retries (seconds of them, then an error about retries). Only an
 * unreachable broker is waited for, for a bounded time.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { untrustedCertificateCodes } from '../net/certificate-codes';
import { type KafkaSettings, kafkaSecurity } from './client';

export type KafkaConnectionProblem =
  | 'KAFKA_SASL_REFUSED'
  | 'KAFKA_SASL_MECHANISM_UNSUPPORTED'
  | 'KAFKA_TLS_UNTRUSTED'
  | 'KAFKA_TLS_WRONG_HOST'
  | 'KAFKA_PROTOCOL_MISMATCH'
  | 'KAFKA_UNREACHABLE';

/** Kafka refused the worker's settings; retrying with the same ones cannot help. */
export class KafkaConnectionError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: KafkaConnectionProblem,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'KafkaConnectionError';
  }
}

/** What KafkaJS's errors carry (it exports the classes, but they are compared by name here). */
interface KafkaJsFailure {
  name?: string;
  code?: string | number;
  type?: string;
  message?: string;
  cause?: unknown;
}

/** The failure under KafkaJS's retries wrapper, which only says that retrying ran out. */
function rootCause(error: unknown): KafkaJsFailure {
  let failure = error as KafkaJsFailure;
  while (failure.name === 'KafkaJSNumberOfRetriesExceeded' && failure.cause !== undefined)
    failure = failure.cause as KafkaJsFailure;
  return failure;
}

/**
 * The problem and its message, or undefined when the broker could not be
 * reached at all (which may pass: a broker still starting).
 */
function diagnose(
  config: KafkaSettings,
  failure: KafkaJsFailure,
): { code: KafkaConnectionProblem; message: string } | undefined {
  const brokers = config.KAFKA_BROKERS.join(',');
  const protocol = config.KAFKA_SECURITY_PROTOCOL;
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const mismatch = (what: string, hint: string) => ({
    code: 'KAFKA_PROTOCOL_MISMATCH' as const,
    message: `${what} (KAFKA_BROKERS=${brokers}): check that KAFKA_SECURITY_PROTOCOL=${protocol} matches the listener ${hint}.`,
  });
  if (failure.name === 'KafkaJSSASLAuthenticationError')
    return {
      code: 'KAFKA_SASL_REFUSED',
      message:
        `Kafka refused the SASL credentials of KAFKA_SASL_USERNAME=${config.KAFKA_SASL_USERNAME} ` +
        `(KAFKA_SASL_MECHANISM=${config.KAFKA_SASL_MECHANISM}, KAFKA_BROKERS=${brokers}): ` +
        `check KAFKA_SASL_PASSWORD (or the file KAFKA_SASL_PASSWORD_FILE names) and the user name. ` +
        `The broker said: ${failure.message}`,
    };
  if (failure.type === 'UNSUPPORTED_SASL_MECHANISM')
    return {
      code: 'KAFKA_SASL_MECHANISM_UNSUPPORTED',
      message: `The Kafka listener at KAFKA_BROKERS=${brokers} does not enable KAFKA_SASL_MECHANISM=${config.KAFKA_SASL_MECHANISM}: set KAFKA_SASL_MECHANISM to the mechanism the cluster's users were created for (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512).`,
    };
  if (failure.type === 'ILLEGAL_SASL_STATE')
    return mismatch(
      'The Kafka listener does not use SASL',
      '(without SASL: PLAINTEXT or SSL, and unset the KAFKA_SASL_* variables)',
    );
  const code = typeof failure.code === 'string' ? failure.code : undefined;
  if (code !== undefined && untrustedCertificateCodes.has(code))
    return {
      code: 'KAFKA_TLS_UNTRUSTED',
      message:
        config.KAFKA_SSL_CA_FILE === undefined
          ? `The certificate of the Kafka broker at KAFKA_BROKERS=${brokers} is not trusted (${code}) and KAFKA_SSL_CA_FILE is unset, so only the system's CAs are: set KAFKA_SSL_CA_FILE to a PEM file of the CA that signs the broker's certificate.`
          : `The certificate of the Kafka broker at KAFKA_BROKERS=${brokers} is not signed by a CA in KAFKA_SSL_CA_FILE=${config.KAFKA_SSL_CA_FILE} (${code}): set KAFKA_SSL_CA_FILE to a PEM file of the CA that signs the broker's certificate.`,
    };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return {
      code: 'KAFKA_TLS_WRONG_HOST',
      message: `The certificate of the Kafka broker does not name the host in KAFKA_BROKERS=${brokers} (${code}): set KAFKA_BROKERS to a host name or address its certificate holds.`,
    };
  // A TLS client whose handshake the server drops: the listener speaks plain Kafka.
  if (tls && code === 'ECONNRESET')
    return mismatch(
      'The Kafka broker dropped the connection during the TLS handshake',
      '(a listener without TLS needs PLAINTEXT or SASL_PLAINTEXT)',
    );
  // The broker closes a connection whose first bytes are not what its listener expects.
  if (failure.name === 'KafkaJSConnectionClosedError')
    return mismatch(
      'The Kafka broker closed the connection',
      tls
        ? protocol === 'SSL'
          ? '(a SASL listener needs SASL_SSL with KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD)'
          : '(or the broker refused this client: see its log)'
        : '(a TLS listener needs SSL or SASL_SSL, with KAFKA_SSL_CA_FILE for a private CA)',
    );
  return undefined;
}

export interface ConnectionCheckOptions {
  /** How long an unreachable broker is waited for before the start fails. */
  unreachableWaitMs?: number;
  log?: Logger;
}

/**
 * Connects an admin client and asks for the cluster's metadata: a TLS-only
 * client on a SASL listener connects and fails only at its first request.
 */
export async function checkKafkaConnection(
  config: KafkaSettings,
  { unreachableWaitMs = 30_000, log }: ConnectionCheckOptions = {},
): Promise<void> {
  const deadline = Date.now() + unreachableWaitMs;
  for (let attempt = 1; ; attempt += 1) {
    // A new client each attempt: KafkaJS keeps state in the SASL options it is given.
    const admin = new Kafka({
      clientId: 'escrow-worker-connection-check',
      brokers: [...config.KAFKA_BROKERS],
      ...kafkaSecurity(config),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch (error) {
      const failure = rootCause(error);
      const problem = diagnose(config, failure);
      if (problem) throw new KafkaConnectionError(problem.code, problem.message, { cause: error });
      const reason = failure.code ?? failure.message ?? failure.name;
      if (Date.now() >= deadline)
        throw new KafkaConnectionError(
          'KAFKA_UNREACHABLE',
          `No Kafka broker answered at KAFKA_BROKERS=${config.KAFKA_BROKERS.join(',')} within ${Math.round(unreachableWaitMs / 1000)} s (${String(reason)}): check KAFKA_BROKERS, and that the brokers run and this host may reach them.`,
          { cause: error },
        );
      log?.warn({ attempt, reason }, 'Kafka is not reachable yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * attempt, 3000)));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
