import { ReplyError } from 'ioredis';
import { RedisRefused, refusalOf } from '../../../src/locks/redis-failure';
import { nodeOptions, shownNode } from '../../../src/locks/redis-nodes';

/** A Redis error reply as ioredis gives it (its class is typed `any`). */
const reply = (message: string): Error =>
  new (ReplyError as new (message: string) => Error)(message);

describe('Redis nodes', () => {
  const ca = Buffer.from('-----BEGIN CERTIFICATE-----\n');

  test('a node is shown by scheme, host and port, never its user or password', () => {
    expect(shownNode('rediss://escrow-worker:s3cret@r1.example:6380/2')).toBe(
      'rediss://r1.example:6380',
    );
    expect(shownNode('redis://:s3cret@127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  test('rediss:// gets TLS with the CA, and the host name as SNI; an IP address is verified without SNI', () => {
    expect(nodeOptions('rediss://:pw@r1.example:6380', ca)).toEqual({
      tls: { ca, servername: 'r1.example' },
    });
    expect(nodeOptions('rediss://:pw@127.0.0.1:6380', undefined)).toEqual({ tls: {} });
    expect(nodeOptions('redis://:pw@r1.example:6379', ca)).toEqual({});
  });

  test('the answers that are settings to fix, and those that are an outage', () => {
    const node = 'rediss://r1:6380';
    const reasonOf = (error: Error, caFileSet = false) =>
      refusalOf(node, error, { caFileSet })?.reason;
    const coded = (code: string) => Object.assign(new Error(code), { code });
    expect(reasonOf(reply('WRONGPASS invalid username-password pair'))).toBe('CREDENTIALS_REFUSED');
    expect(reasonOf(reply('NOAUTH Authentication required.'))).toBe('PASSWORD_MISSING');
    expect(reasonOf(coded('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('CERTIFICATE_UNTRUSTED');
    expect(
      refusalOf(node, coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), { caFileSet: true })?.fix,
    ).toContain('not signed by the CA in REDIS_CA_FILE');
    expect(reasonOf(coded('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('CERTIFICATE_NAME_MISMATCH');
    for (const outage of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'])
      expect(reasonOf(coded(outage))).toBeUndefined();
  });

  test('the error names each node with its code and fix, is not retryable, and carries a code', () => {
    const refusal = refusalOf(
      'rediss://r2:6380',
      reply('WRONGPASS invalid username-password pair'),
      { caFileSet: true },
    )!;
    const error = new RedisRefused([refusal]);
    expect(error).toMatchObject({ code: 'REDIS_REFUSED', retryable: false });
    expect(error.message).toBe(
      'Redis refused the worker at start (REDIS_URL, REDIS_CA_FILE):\n' +
        '  - rediss://r2:6380 (WRONGPASS): the server refused the password (or the ACL user): check the password in REDIS_URL, and the user if it names one (rediss://user:password@host:port).',
    );
  });
});
