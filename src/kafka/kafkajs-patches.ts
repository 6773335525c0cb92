/**
 * Three of KafkaJS's modules replaced by functions with the same results and
 * less work: the grouping of a send's messages per partition
 * (src/kafka/linear-grouping.ts, linear where KafkaJS's is quadratic), the
 * encoding of each record (src/kafka/record-encoding.ts, one exact-size buffer
 * where KafkaJS's allocates per record, per header and per varint) and of
 * each record batch (src/kafka/record-batch.ts, one exact-size buffer and a
 * CRC-32C eight bytes per step, where KafkaJS's copies the batch through
 * three doubling buffers and checksums it a byte at a time). KafkaJS
 * has had no release since 2023, so each replacement enters Node's module
 * cache under the resolved path of the KafkaJS file it replaces, where the
 * one KafkaJS file that requires it finds it when that file is first loaded.
 *
 * That works only before those files are loaded, so this module is the first
 * import of src/kafka/client.ts and src/main.ts. If one of them is loaded
 * already, the import throws KafkaJsLoadedFirst, naming the fix: an import
 * order that loses a replacement is a mistake in the code, made the same way
 * on every start, and a start that fails at once shows it where a warning
 * would let the cost come back unseen. Nothing is installed unless every
 * replacement can be. Under Jest, whose module registry ignores writes to
 * require.cache, nothing is installed and nothing thrown: KafkaJS's own
 * modules run there, with the same results.
 */
import Module from 'node:module';
import { groupMessagesPerPartition } from './linear-grouping';
import { MAGIC_BYTE, RecordBatch } from './record-batch';
import { encodeRecord } from './record-encoding';

/** KafkaJS's module files by their resolved paths: the keys of Node's module cache. */
export const kafkaJsModules = {
  grouping: require.resolve('kafkajs/src/producer/groupMessagesPerPartition'),
  sendMessages: require.resolve('kafkajs/src/producer/sendMessages'),
  record: require.resolve('kafkajs/src/protocol/recordBatch/record/v0'),
  produceRequest: require.resolve('kafkajs/src/protocol/requests/produce/v3/request'),
  recordBatch: require.resolve('kafkajs/src/protocol/recordBatch/v0'),
};

interface Replacement {
  /** The KafkaJS file replaced. */
  readonly path: string;
  readonly implementation: object;
  /**
   * The KafkaJS file that requires it for what is replaced; once it is
   * loaded, it holds KafkaJS's own. (recordBatch/v0 is also required by the
   * fetch decoder, for MAGIC_BYTE only, which the replacement exports equal.)
   */
  readonly importer: string;
  /** What KafkaJS keeps doing when its importer was loaded first. */
  readonly lost: string;
}

const replacements: readonly Replacement[] = [
  {
    path: kafkaJsModules.grouping,
    implementation: groupMessagesPerPartition,
    importer: kafkaJsModules.sendMessages,
    lost: 'grouping messages per partition in quadratic time',
  },
  {
    path: kafkaJsModules.record,
    implementation: encodeRecord,
    importer: kafkaJsModules.produceRequest,
    lost: 'encoding every record and header through an Encoder of its own',
  },
  {
    path: kafkaJsModules.recordBatch,
    // The module's exports as KafkaJS's produce request and fetch decoder read them.
    implementation: { RecordBatch, MAGIC_BYTE },
    importer: kafkaJsModules.produceRequest,
    lost: 'copying every record batch through three growing buffers',
  },
];

export class KafkaJsLoadedFirst extends Error {
  readonly code = 'KAFKAJS_LOADED_FIRST';
  readonly retryable = false;
  constructor(replacement: Replacement) {
    super(
      `KafkaJS's ${relativeToKafkaJs(replacement.importer)} was loaded before ` +
        `src/kafka/kafkajs-patches.ts, so it keeps ${replacement.lost}: ` +
        "import './kafka/kafkajs-patches' (or src/kafka/client.ts) in the entry file before " +
        'anything that imports kafkajs.',
    );
    this.name = 'KafkaJsLoadedFirst';
  }
}

const relativeToKafkaJs = (file: string) => file.slice(file.lastIndexOf('kafkajs/'));

/** Marks a replacement so that another copy of this module (tsx and compiled) recognizes it. */
const marker = Symbol.for('escrow-worker.kafkajs-patch');
for (const { implementation } of replacements) {
  Object.defineProperty(implementation, marker, { value: true });
}

const isReplaced = (cached: NodeJS.Module | undefined) =>
  cached !== undefined && marker in (cached.exports as object);

/**
 * Installs the replacements in Node's module cache; 'installed' when KafkaJS
 * will use them (or already does: another copy of this module installed
 * them), 'not-node' under a module system that ignores require.cache.
 */
export function installKafkaJsPatches(): 'installed' | 'not-node' {
  const nodeCache = (Module as unknown as { _cache: NodeJS.Dict<NodeJS.Module> })._cache;
  if (require.cache !== nodeCache) return 'not-node';
  const missing = replacements.filter((replacement) => !isReplaced(nodeCache[replacement.path]));
  const loadedFirst = missing.find((replacement) => nodeCache[replacement.importer] !== undefined);
  if (loadedFirst !== undefined) throw new KafkaJsLoadedFirst(loadedFirst);
  for (const { path, implementation } of missing) {
    const entry = new Module(path);
    entry.filename = path;
    entry.exports = implementation;
    entry.loaded = true;
    nodeCache[path] = entry;
  }
  return 'installed';
}

installKafkaJsPatches();
