/**
 * The start-up check of the Redis nodes: a PING to every node, each on a
 * connection of its own that is not retried, within a few seconds. A node
 * that refuses the worker (password, certificate, TLS on one side only) stops
 * the start with RedisRefused; one that does not answer is logged and the
 * worker starts anyway, taking its locks without that node as it does when
 * Redis goes down while running.
 */
import net from 'node:net';
import tls from 'node:tls';
import Redis, { ReplyError } from 'ioredis';
import type { Logger } from '../logging/logger';
import {
  failureCode,
  type NodeRefusal,
  RedisRefused,
  refusalOf,
  tlsNotSpoken,
  tlsRequired,
  untrustedCertificate,
} from './redis-failure';
import {
  hostAndPort,
  nodeOptions,
  readCa,
  type RedisNodeSettings,
  shownNode,
  usesTls,
} from './redis-nodes';

// The connection attempt times out before the PING does, so that a TLS
// handshake that never completes is reported as the connect timeout it is.
const connectTimeoutMs = 1500;
const pingTimeoutMs = 2000;
const probeTimeoutMs = 1000;

type NodeAnswer =
  | { readonly kind: 'ready' }
  | { readonly kind: 'refused'; readonly refusal: NodeRefusal }
  | { readonly kind: 'unreachable'; readonly code: string };

/** Throws RedisRefused naming every node that refused; logs the nodes that did not answer. */
export async function checkRedisNodes(settings: RedisNodeSettings, log: Logger): Promise<void> {
  const ca = readCa(settings);
  const caFileSet = settings.REDIS_CA_FILE !== undefined;
  const answers = await Promise.all(settings.REDIS_URL.map((url) => askNode(url, ca, caFileSet)));
  const refusals: NodeRefusal[] = [];
  answers.forEach((answer, index) => {
    const node = shownNode(settings.REDIS_URL[index]!);
    if (answer.kind === 'refused') refusals.push(answer.refusal);
    if (answer.kind === 'unreachable')
      log.warn(
        { node, code: answer.code },
        'Redis node does not answer at start; the worker starts and takes its locks without it',
      );
  });
  if (refusals.length > 0) throw new RedisRefused(refusals);
}

async function askNode(
  url: string,
  ca: Buffer | undefined,
  caFileSet: boolean,
): Promise<NodeAnswer> {
  const node = shownNode(url);
  const { host, port } = hostAndPort(url);
  if (usesTls(url)) {
    // The certificate is judged on a handshake of the check's own, which
    // completes whatever the verdict: a client that rejects the certificate
    // mid-handshake races the server's alert, and ioredis is then told of a
    // decode error instead (or twice, the second time with no one listening).
    const handshake = await tlsHandshake(host, port, ca);
    if (handshake.authorizationError !== undefined) {
      const verdict = Object.assign(new Error(handshake.authorizationError), {
        code: handshake.authorizationError,
      });
      const refusal =
        refusalOf(node, verdict, { caFileSet }) ??
        untrustedCertificate(node, handshake.authorizationError, { caFileSet });
      return { kind: 'refused', refusal };
    }
    if (!handshake.completed)
      return (await answersPlainPing(host, port))
        ? { kind: 'refused', refusal: tlsNotSpoken(node, handshake.code) }
        : { kind: 'unreachable', code: handshake.code };
  }
  const failure = await pingOnce(url, ca);
  if (failure === undefined) return { kind: 'ready' };
  const refusal = refusalOf(node, failure, { caFileSet });
  if (refusal) return { kind: 'refused', refusal };
  const code = failureCode(failure);
  // A plaintext connection that was reset may be a TLS port: ask it for a
  // handshake (nothing listening, or a name that does not resolve, is an outage).
  const outage = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(code);
  if (!usesTls(url) && !outage && (await tlsHandshake(host, port, undefined)).completed)
    return { kind: 'refused', refusal: tlsRequired(node, code) };
  return { kind: 'unreachable', code };
}

/** Undefined when the node answered PONG; else the error that says most about why not. */
async function pingOnce(url: string, ca: Buffer | undefined): Promise<Error | undefined> {
  const client = new Redis(url, {
    ...nodeOptions(url, ca),
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    commandTimeout: pingTimeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The connection's own error (a certificate, a reset) says more than the
  // "Connection is closed" the PING then fails with.
  let connectionError: Error | undefined;
  client.on('error', (error: Error) => {
    connectionError ??= error;
    client.stream?.on('error', () => undefined); // a second error of the socket (see redlock.ts)
  });
  try {
    await client.ping();
    return undefined;
  } catch (error) {
    if (error instanceof ReplyError) return error as Error;
    return connectionError ?? (error as Error);
  } finally {
    client.disconnect();
  }
}

interface Handshake {
  readonly completed: boolean;
  /** Why the certificate is not trusted for this host (Node's code), when it is not. */
  readonly authorizationError?: string;
  /** What ended a handshake that did not complete. */
  readonly code: string;
}

/**
 * A TLS handshake as the lock service makes it (the CA, the host checked,
 * SNI for a name), that completes even with a certificate Node would reject,
 * so that the verdict is read rather than raced. Nothing is sent over it.
 */
function tlsHandshake(host: string, port: number, ca: Buffer | undefined): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      ...(ca ? { ca } : {}),
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      rejectUnauthorized: false,
    });
    const done = (handshake: Handshake) => {
      socket.destroy();
      resolve(handshake);
    };
    socket.setTimeout(connectTimeoutMs, () => done({ completed: false, code: 'ETIMEDOUT' }));
    socket.once('secureConnect', () => {
      // Typed as an Error, given by Node as its code (a string).
      const reason = socket.authorizationError as unknown as string | null | undefined;
      done({
        completed: true,
        code: 'OK',
        ...(reason ? { authorizationError: String(reason) } : {}),
      });
    });
    socket.once('error', (error: Error) => done({ completed: false, code: failureCode(error) }));
  });
}

/** Whether the port answers a plaintext PING as Redis does (`+PONG`, or an error such as `-NOAUTH`). */
function answersPlainPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(probeTimeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk: Buffer) => done(chunk[0] === 0x2b || chunk[0] === 0x2d));
    socket.once('error', () => done(false));
  });
}
