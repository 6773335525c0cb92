/**
 * A Kafka consumer that KafkaJS will not restart makes the worker useless
 * while its relay, timer and API go on; it used to go on answering /readyz
 * 200. Here the crash is a real one: another member already holds the
 * worker's consumer group with a partition assignment protocol the worker
 * does not speak, so the group coordinator refuses the worker's join with
 * INCONSISTENT_GROUP_PROTOCOL, which KafkaJS deems final. In-process the
 * worker then answers /readyz 503 naming the consumer; as `npm start` it
 * exits with code 1 for its supervisor to restart it.
 */
import { type Consumer, PartitionAssigners } from 'kafkajs';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { createTopics } from '../support/kafka';
import { useTestContext } from '../support/test-context';
import { spawnWorker } from '../support/worker-process';
import { randomOpsPort } from '../support/ops-port';

const opsPort = randomOpsPort();
const ctx = useTestContext({ OPS_PORT: String(opsPort) });
let foreign: Consumer | undefined;
let worker: RunningWorker | undefined;
ctx.beforeTeardown(async () => {
  await worker?.stop();
  await foreign?.disconnect();
});

/** A member of the worker's group whose only assignor is one the worker does not know. */
async function holdTheGroup(): Promise<void> {
  const kafka = createKafka({ ...ctx.config, LOG_LEVEL: 'silent' }, 'foreign-member');
  const holder = `${ctx.config.TOPIC_PREFIX}held`;
  await createTopics(kafka, [holder]);
  foreign = kafka.consumer({
    groupId: ctx.config.CONSUMER_GROUP,
    partitionAssigners: [
      (config) => ({ ...PartitionAssigners.roundRobin(config), name: 'ForeignAssigner' }),
    ],
  });
  await foreign.connect();
  await foreign.subscribe({ topics: [holder] });
  const joined = new Promise<void>((resolve) =>
    foreign!.on(foreign!.events.GROUP_JOIN, () => resolve()),
  );
  await foreign.run({ eachMessage: () => Promise.resolve() });
  await joined;
}

test('in-process: the crash settles consumerStopped and /readyz answers 503 naming the stopped consumer', async () => {
  await holdTheGroup();
  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }));
  let timer: NodeJS.Timeout | undefined;
  const error = await Promise.race([
    worker.consumerStopped,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('consumerStopped did not settle in 30 s')), 30_000);
    }),
  ]).finally(() => clearTimeout(timer));
  expect(error.message).toMatch(/incompatible with those of existing members/);

  expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
  const ready = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({
    status: 'not ready',
    checks: {
      kafka: 'ok',
      registry: 'ok',
      postgres: 'ok',
      redis: 'ok',
      consumer: expect.stringMatching(
        /^stopped for good after a crash KafkaJS does not restart from \(KafkaJSProtocolError: .*incompatible.*\); restart the worker$/,
      ) as string,
    },
  });
}, 60_000);

test('as npm start: the process logs why at error and exits with code 1', async () => {
  const child = spawnWorker(ctx.config, { OPS_PORT: String(opsPort + 1) });
  const timer = setTimeout(() => child.child.kill('SIGKILL'), 60_000);
  const exit = await child.exited;
  clearTimeout(timer);
  expect(exit).toEqual({ code: 1, signal: null });
  const lines = child
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string });
  const errors = lines.filter((line) => line.level >= 50).map((line) => line.msg);
  expect(errors).toEqual(
    expect.arrayContaining([
      'the Kafka consumer crashed and will not restart; this worker consumes nothing more',
      'exiting with code 1 so that the supervisor starts a fresh worker',
    ]),
  );
  expect(lines.map((line) => line.msg)).toContain('stopped');
}, 90_000);
