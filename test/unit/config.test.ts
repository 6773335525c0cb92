import { ConfigError, defaults, loadConfig, topicName } from '../../src/config';

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
      LOG_LEVEL: 'info',
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
      expect(message).toContain(`${name}: given ${JSON.stringify(value)}; allowed: ${allowed}`);
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

  test('every default is itself a valid value', () => {
    expect(() => loadConfig({ ...defaults })).not.toThrow();
  });
});
