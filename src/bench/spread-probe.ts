/**
 * `npx tsx src/bench/spread-probe.ts`: times the ways the worker can build an
 * outcome record (nine common keys, then six amount fields) on the running
 * Node, in µs per record. Node 20's V8 took a slow path for an object literal
 * that adds keys after a spread (`{ ...a, ...b }`, `{ ...a, key }`); this
 * probe is how that was measured, and how to check it again on a new Node
 * (docs/benchmark.md has the figures).
 */
interface Common {
  outcomeId: string;
  orderId: string;
  milestoneId: string;
  type: string;
  occurredAt: string;
  causeEventId: string;
  version: number;
  currency: string;
  sequence: number;
}
type Fields = Record<'funded' | 'held' | 'disputed' | 'released' | 'refunded' | 'fee', string>;

const recordsPerRound = 400_000;
const rounds = 7;

const inputs: [Common, Fields][] = Array.from({ length: 1000 }, (_, index) => [
  {
    outcomeId: `o-${index}`,
    orderId: `ord-${index % 100}`,
    milestoneId: 'm-1',
    type: 'MILESTONE_RELEASED',
    occurredAt: '2026-12-04T00:00:00.000Z',
    causeEventId: `e-${index}`,
    version: index,
    currency: 'EUR',
    sequence: index,
  },
  {
    funded: String(index),
    held: '0',
    disputed: '0',
    released: String(index),
    refunded: '0',
    fee: '10',
  },
]);

const commonLiteral = (common: Common) => ({
  outcomeId: common.outcomeId,
  orderId: common.orderId,
  milestoneId: common.milestoneId,
  type: common.type,
  occurredAt: common.occurredAt,
  causeEventId: common.causeEventId,
  version: common.version,
  currency: common.currency,
  sequence: common.sequence,
});

const ways: Record<string, (common: Common, fields: Fields) => { version: number }> = {
  '{ ...a, ...b }': (common, fields) => ({ ...common, ...fields }),
  '{ ...a, key }': (common, fields) => ({ ...common, fee: fields.fee }),
  'Object.assign(literal, b)': (common, fields) => Object.assign(commonLiteral(common), fields),
  'one literal, every key': (common, fields) => ({
    outcomeId: common.outcomeId,
    orderId: common.orderId,
    milestoneId: common.milestoneId,
    type: common.type,
    occurredAt: common.occurredAt,
    causeEventId: common.causeEventId,
    version: common.version,
    currency: common.currency,
    sequence: common.sequence,
    funded: fields.funded,
    held: fields.held,
    disputed: fields.disputed,
    released: fields.released,
    refunded: fields.refunded,
    fee: fields.fee,
  }),
};

let checksum = 0;
for (const [name, build] of Object.entries(ways)) {
  const perRecordUs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < recordsPerRound; index++) {
      const [common, fields] = inputs[index % inputs.length]!;
      checksum += build(common, fields).version;
    }
    perRecordUs.push(Number(process.hrtime.bigint() - started) / recordsPerRound / 1000);
  }
  perRecordUs.sort((left, right) => left - right);
  const median = perRecordUs[Math.floor(rounds / 2)]!;
  process.stdout.write(
    `${process.version}  ${name.padEnd(26)} median ${median.toFixed(3)} µs, best ${perRecordUs[0]!.toFixed(3)} µs\n`,
  );
}
process.stdout.write(`(checksum ${checksum})\n`);
