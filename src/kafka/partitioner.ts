/**
 * The producer's partitioner: KafkaJS's DefaultPartitioner's choices
 * (kafkajs/src/producer/partitioners/legacy/partitioner.js with
 * default/murmur2.js, after the Java client's), message for message, without
 * its cost: KafkaJS filters the partition metadata for every message and
 * hashes with BigInt-backed Longs over a fresh Buffer of the key, where this
 * one hashes with 32-bit integer arithmetic over a buffer it reuses. A keyed
 * message goes where a Java producer would put it, so one orderId lands on
 * one partition whoever produced it (the lanes of src/kafka/lane-assigner.ts
 * rely on that).
 */
import type { ICustomPartitioner, PartitionMetadata } from 'kafkajs';

const seed = 0x9747b28c;
const multiplier = 0x5bd1e995;

/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of
 * bytes[0, length), as a signed 32-bit integer.
 */
export function murmur2(bytes: Uint8Array, length = bytes.length): number {
  let hash = seed ^ length;
  const whole = length & ~3;
  for (let index = 0; index < whole; index += 4) {
    let word =
      bytes[index]! |
      (bytes[index + 1]! << 8) |
      (bytes[index + 2]! << 16) |
      (bytes[index + 3]! << 24);
    word = Math.imul(word, multiplier);
    word ^= word >>> 24;
    word = Math.imul(word, multiplier);
    hash = Math.imul(hash, multiplier) ^ word;
  }
  const tail = length & 3;
  if (tail === 3) hash ^= bytes[whole + 2]! << 16;
  if (tail >= 2) hash ^= bytes[whole + 1]! << 8;
  if (tail >= 1) hash = Math.imul(hash ^ bytes[whole]!, multiplier);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, multiplier);
  return hash ^ (hash >>> 15);
}

/**
 * Keys are hashed where they are written: a UTF-8 string takes at most 3
 * bytes per UTF-16 unit, so one that fits is written here whole; a longer
 * one gets a buffer of its own.
 */
const scratch = Buffer.allocUnsafe(1024);

/** murmur2 of the key's bytes as KafkaJS takes them: a Buffer as it is, anything else as String(key) in UTF-8. */
export function murmur2OfKey(key: unknown): number {
  if (Buffer.isBuffer(key)) return murmur2(key);
  const text = String(key);
  if (text.length * 3 > scratch.length) return murmur2(Buffer.from(text, 'utf8'));
  return murmur2(scratch, scratch.write(text, 0, 'utf8'));
}

/** A non-negative number from a hash or a counter, as the Java client's toPositive. */
const toPositive = (value: number) => value & 0x7fffffff;

/**
 * A partitioner per producer, as KafkaJS's: a message's own partition when it
 * names one; a keyed message's murmur2 of the key modulo the topic's
 * partitions, available or not; an unkeyed one round robin over the
 * partitions with a leader, from a random start per topic (over all of them
 * when none has one).
 */
export const createPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined) {
      return toPositive(murmur2OfKey(message.key)) % partitionMetadata.length;
    }
    const counter = (counters.get(topic) ?? randomStart()) + 1;
    counters.set(topic, counter);
    const available = countAvailable(partitionMetadata);
    if (available === 0) return toPositive(counter) % partitionMetadata.length;
    return nthAvailable(partitionMetadata, toPositive(counter) % available);
  };
};

/** A random unsigned 32-bit start, drawn as KafkaJS draws it (Web Crypto, big-endian). */
const randomStart = () => globalThis.crypto.getRandomValues(Buffer.allocUnsafe(4)).readUInt32BE(0);

const hasLeader = (partition: PartitionMetadata) => partition.leader >= 0;

function countAvailable(partitionMetadata: readonly PartitionMetadata[]): number {
  let count = 0;
  for (const partition of partitionMetadata) if (hasLeader(partition)) count++;
  return count;
}

function nthAvailable(partitionMetadata: readonly PartitionMetadata[], nth: number): number {
  let seen = 0;
  for (const partition of partitionMetadata) {
    if (!hasLeader(partition)) continue;
    if (seen === nth) return partition.partitionId;
    seen++;
  }
  throw new RangeError(`no available partition number ${nth}`);
}
