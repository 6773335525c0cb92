import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, configEnvironment, defaults, loadConfig, topicName } from '../../src/config';
import { kafkaSecurity } from '../../src/kafka/client';

const folder = mkdtempSync(path.join(tmpdir(), 'escrow-config-'));
/** A file holding `content`, as a mounted secret or certificate would be. */
const file = (name: string, content: string) => {
  const at = path.join(folder, name);
  writeFileSync(at, content);
  return at;
};
const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
};
const sasl = {
  KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
  KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
  KAFKA_SASL_USERNAME: 'escrow-worker',
};

describe('loadConfig', () => {
  test('with no variables set it points at the local services', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/escrow',
      REDIS_URL: ['redis://127.0.0.1:6379'],
      TOPIC_PREFIX: '',
      CONSUMER_GROUP: 'escrow-worker',
      OPS_PORT: 8080,
      OPS_TOKEN: undefined,
      PLATFORM_FEE_RATE: '0.10',
      SCHEMA_REGISTRY_USERNAME: undefined,
      SCHEMA_REGISTRY_PASSWORD: undefined,
      SCHEMA_REGISTRY_CA_FILE: undefined,
      SCHEMA_AUTO_REGISTER: true,
      KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      KAFKA_SASL_MECHANISM: undefined,
      KAFKA_SASL_USERNAME: undefined,
      KAFKA_SASL_PASSWORD: undefined,
      KAFKA_SSL_CA_FILE: undefined,
      KAFKA_SSL_CERT_FILE: undefined,
      KAFKA_SSL_KEY_FILE: undefined,
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'escrow-worker',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      OTEL_SDK_DISABLED: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('lists of brokers and of Redis nodes for a Redlock quorum are split on commas', () => {
    const config = loadConfig({
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      REDIS_URL: 'redis://r1:6379,redis://r2:6379,redis://r3:6379',
    });
    expect(config.KAFKA_BROKERS).toEqual(['k1:9092', 'k2:9092']);
    expect(config.REDIS_URL).toHaveLength(3);
  });

  test('an empty OPS_TOKEN means the operations API is open', () => {
    expect(loadConfig({ OPS_TOKEN: '' }).OPS_TOKEN).toBeUndefined();
    expect(loadConfig({ OPS_TOKEN: 'a-secret-of-sixteen' }).OPS_TOKEN).toBe('a-secret-of-sixteen');
  });

  test.each([
    ['KAFKA_BROKERS', 'localhost', 'comma-separated host:port pairs'],
    ['SCHEMA_REGISTRY_URL', 'ftp://registry', 'an http(s) URL'],
    ['DATABASE_URL', 'mysql://db/escrow', 'a postgres:// URL'],
    ['REDIS_URL', 'redis://a:1,nope', 'one redis:// URL'],
    ['TOPIC_PREFIX', 'has space', 'empty, or letters, digits'],
    ['CONSUMER_GROUP', '', 'a non-empty Kafka consumer group id'],
    ['OPS_PORT', '70000', 'a TCP port number from 1 to 65535'],
    ['OPS_PORT', '80.5', 'a TCP port number from 1 to 65535'],
    ['PLATFORM_FEE_RATE', '0,1', 'a decimal fraction from 0 to 1'],
    ['PLATFORM_FEE_RATE', '1.5', 'a decimal fraction from 0 to 1'],
    ['LOG_LEVEL', 'verbose', 'one of fatal, error'],
  ])(
    '%s=%j is refused with the variable, the value and what is allowed',
    (name, value, allowed) => {
      let thrown: unknown;
      try {
        loadConfig({ [name]: value });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      const message = (thrown as ConfigError).message;
      // A part of a URL list that is no URL might be a piece of a password: it is not echoed.
      const shown = name === 'REDIS_URL' ? value.replace('nope', '(not a URL)') : value;
      expect(message).toContain(`${name}: given ${JSON.stringify(shown)}; allowed: ${allowed}`);
      expect(message).toContain('Fix the environment variable');
    },
  );

  test('every bad variable is named at once, and a bad OPS_TOKEN is never echoed', () => {
    let thrown: ConfigError | undefined;
    try {
      loadConfig({ OPS_PORT: 'x', OPS_TOKEN: 'short secret', LOG_LEVEL: 'loud' });
    } catch (error) {
      thrown = error as ConfigError;
    }
    expect(thrown?.problems.map((problem) => problem.split(':')[0])).toEqual([
      'OPS_PORT',
      'OPS_TOKEN',
      'LOG_LEVEL',
    ]);
    expect(thrown?.message).not.toContain('short secret');
  });

  test('topic names carry the prefix', () => {
    expect(topicName({ TOPIC_PREFIX: 'staging.' }, 'escrow.orders.v1')).toBe(
      'staging.escrow.orders.v1',
    );
    expect(topicName(loadConfig({}), 'escrow.orders.v1')).toBe('escrow.orders.v1');
  });

  test('configEnvironment writes a configuration back so that another process loads the same', () => {
    const config = loadConfig({
      ...sasl,
      KAFKA_SASL_PASSWORD: 'pw',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      REDIS_URL: 'redis://r1:6379,redis://r2:6379,redis://r3:6379',
      SCHEMA_AUTO_REGISTER: 'false',
      OPS_PORT: '9100',
    });
    expect(loadConfig(configEnvironment(config))).toEqual(config);
    expect(configEnvironment(loadConfig({}))).not.toHaveProperty('OPS_TOKEN');
  });

  test('every default is itself a valid value', () => {
    expect(() => loadConfig({ ...defaults })).not.toThrow();
  });

  describe('secrets from files (<NAME>_FILE)', () => {
    test('a secret is read from the file its _FILE variable names, without the trailing newline', () => {
      const config = loadConfig({
        ...sasl,
        KAFKA_SASL_PASSWORD_FILE: file('kafka-password', 'kafka-secret-value\n'),
        OPS_TOKEN_FILE: file('ops-token', 'ops-token-of-sixteen-or-more'),
        DATABASE_URL_FILE: file('db-url', 'postgres://worker:pw@db:5432/escrow\r\n'),
      });
      expect(config.KAFKA_SASL_PASSWORD).toBe('kafka-secret-value');
      expect(config.OPS_TOKEN).toBe('ops-token-of-sixteen-or-more');
      expect(config.DATABASE_URL).toBe('postgres://worker:pw@db:5432/escrow');
    });

    test('both the variable and its _FILE set is refused, naming both', () => {
      expect(
        problemsOf({ ...sasl, KAFKA_SASL_PASSWORD: 'x', KAFKA_SASL_PASSWORD_FILE: file('p', 'y') }),
      ).toEqual([
        'KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: set one of them.',
      ]);
    });

    test('a _FILE that cannot be read is named with its path and the error code', () => {
      const missing = path.join(folder, 'no-such-file');
      expect(problemsOf({ ...sasl, KAFKA_SASL_PASSWORD_FILE: missing })).toEqual([
        `KAFKA_SASL_PASSWORD_FILE: cannot read ${JSON.stringify(missing)} (ENOENT); name a file the worker may read, holding the value of KAFKA_SASL_PASSWORD.`,
      ]);
    });

    test('a bad secret from a file or from a URL with a password is never echoed', () => {
      const problems = problemsOf({
        OPS_TOKEN_FILE: file('short-token', 'short secret'),
        DATABASE_URL: 'mysql://user:db-password@db/escrow',
        REDIS_URL: 'http://:redis-password@r1:6379',
      });
      expect(problems.map((problem) => problem.split(':')[0])).toEqual([
        'DATABASE_URL',
        'REDIS_URL',
        'OPS_TOKEN',
      ]);
      expect(problems[0]).toContain('given "mysql://user:***@db/escrow"');
      const text = problems.join('\n');
      for (const secret of ['short secret', 'db-password', 'redis-password'])
        expect(text).not.toContain(secret);
    });
  });

  test('registry basic auth needs both halves, and a registry CA file an https:// URL', () => {
    expect(problemsOf({ SCHEMA_REGISTRY_USERNAME: 'deployer' })).toEqual([
      'SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD go together (basic auth): set both (the password may come from SCHEMA_REGISTRY_PASSWORD_FILE), or neither.',
    ]);
    expect(problemsOf({ SCHEMA_REGISTRY_CA_FILE: file('registry-ca.pem', 'ca') })).toEqual([
      "SCHEMA_REGISTRY_CA_FILE is set but SCHEMA_REGISTRY_URL is not https://: use the registry's https:// URL, or unset SCHEMA_REGISTRY_CA_FILE.",
    ]);
    const config = loadConfig({
      SCHEMA_REGISTRY_URL: 'https://registry.example:8081',
      SCHEMA_REGISTRY_USERNAME: 'deployer',
      SCHEMA_REGISTRY_PASSWORD_FILE: file('registry-password', 'registry-secret\n'),
    });
    expect(config.SCHEMA_REGISTRY_PASSWORD).toBe('registry-secret');
  });

  describe('Kafka over TLS and SASL', () => {
    test('SASL_SSL with SCRAM and a CA file gives the client TLS with that CA and the credentials', () => {
      const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const config = loadConfig({ ...sasl, KAFKA_SASL_PASSWORD: 'pw', KAFKA_SSL_CA_FILE: ca });
      const security = kafkaSecurity(config);
      expect(security.sasl).toEqual({
        mechanism: 'scram-sha-512',
        username: 'escrow-worker',
        password: 'pw',
      });
      expect(security.ssl).toEqual({ ca: [readFileSync(ca)] });
    });

    test('SSL without a CA file trusts the system store; PLAINTEXT uses neither', () => {
      expect(kafkaSecurity(loadConfig({ KAFKA_SECURITY_PROTOCOL: 'SSL' }))).toEqual({ ssl: true });
      expect(kafkaSecurity(loadConfig({}))).toEqual({});
    });

    test('mutual TLS sends the client certificate and key', () => {
      const config = loadConfig({
        KAFKA_SECURITY_PROTOCOL: 'SSL',
        KAFKA_SSL_CERT_FILE: file('client.pem', 'cert'),
        KAFKA_SSL_KEY_FILE: file('client.key', 'key'),
      });
      expect(kafkaSecurity(config).ssl).toEqual({
        cert: Buffer.from('cert'),
        key: Buffer.from('key'),
      });
    });

    test.each([
      [
        { ...sasl },
        'KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_PASSWORD: set them (the password may come from KAFKA_SASL_PASSWORD_FILE).',
      ],
      [
        { KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT' },
        'KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT needs KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: set them (the password may come from KAFKA_SASL_PASSWORD_FILE).',
      ],
      [
        { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' },
        'KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD set with KAFKA_SECURITY_PROTOCOL=PLAINTEXT, which uses no SASL: set KAFKA_SECURITY_PROTOCOL to SASL_SSL (or SASL_PLAINTEXT), or unset them.',
      ],
      [
        { KAFKA_SSL_CA_FILE: file('ca-plain.pem', 'ca') },
        'KAFKA_SSL_CA_FILE set with KAFKA_SECURITY_PROTOCOL=PLAINTEXT, which uses no TLS: set KAFKA_SECURITY_PROTOCOL to SSL or SASL_SSL, or unset them.',
      ],
      [
        { KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: file('only-cert.pem', 'c') },
        'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (mutual TLS): set both, or neither.',
      ],
    ])('settings that disagree are refused before any connection: %j', (env, problem) => {
      expect(problemsOf(env)).toEqual([problem]);
    });

    test('an unreadable CA file and an unknown protocol or mechanism are named with what is allowed', () => {
      const problems = problemsOf({
        KAFKA_SECURITY_PROTOCOL: 'TLS',
        KAFKA_SASL_MECHANISM: 'GSSAPI',
        KAFKA_SSL_CA_FILE: path.join(folder, 'missing-ca.pem'),
      });
      expect(problems).toEqual([
        expect.stringContaining(
          'KAFKA_SECURITY_PROTOCOL: given "TLS"; allowed: one of PLAINTEXT, SSL',
        ),
        expect.stringContaining(
          'KAFKA_SASL_MECHANISM: given "GSSAPI"; allowed: unset, or one of PLAIN',
        ),
        expect.stringContaining('KAFKA_SSL_CA_FILE: given "'),
      ]);
      expect(problems[2]).toContain('a readable PEM file');
    });
  });

  describe('Redis over TLS', () => {
    const ca = () =>
      file('redis-ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

    test('rediss:// URLs with credentials and a CA file are accepted for every node', () => {
      const config = loadConfig({
        REDIS_URL: 'rediss://escrow-worker:pw@r1:6380,rediss://escrow-worker:pw@r2:6380',
        REDIS_CA_FILE: ca(),
      });
      expect(config.REDIS_URL).toHaveLength(2);
      expect(config.REDIS_CA_FILE).toBe(ca());
      expect(loadConfig({ REDIS_CA_FILE: '' }).REDIS_CA_FILE).toBeUndefined();
    });

    test.each([
      [
        { REDIS_URL: 'redis://r1:6379', REDIS_CA_FILE: ca() },
        'REDIS_CA_FILE is set but REDIS_URL uses redis:// (no TLS): use rediss:// URLs for the TLS port of every node, or unset REDIS_CA_FILE.',
      ],
      [
        { REDIS_URL: 'rediss://:pw@r1:6380,redis://:pw@r2:6379,rediss://:pw@r3:6380' },
        'REDIS_URL mixes redis:// and rediss:// nodes (1 of 3 without TLS): use rediss:// for every node of the quorum.',
      ],
    ])('settings that disagree are refused before any connection: %j', (env, problem) => {
      expect(problemsOf(env)).toEqual([problem]);
    });

    test('an unreadable REDIS_CA_FILE is named with what is allowed', () => {
      const problems = problemsOf({
        REDIS_URL: 'rediss://:pw@r1:6380',
        REDIS_CA_FILE: path.join(folder, 'missing-redis-ca.pem'),
      });
      expect(problems).toEqual([expect.stringContaining('REDIS_CA_FILE: given "')]);
      expect(problems[0]).toContain('a readable PEM file of the CA that signs the Redis servers');
    });
  });
});
