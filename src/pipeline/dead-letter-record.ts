/**
 * The dead letter for one message, sized to fit the DLQ topic. The record
 * wraps the original key, value and headers with the source and the reason,
 * so a value close to the broker's max.message.bytes (1 MiB by default)
 * cannot be wrapped whole: the broker refuses the record (MESSAGE_TOO_LARGE)
 * and the message could never leave its partition.
 *
 * So the original is kept whole only while key, value and headers together
 * stay under ORIGINAL_BYTES_KEPT_WHOLE, far below any usual limit; past it the
 * value is cut to a prefix (enough to see what it is), and a key or headers
 * that are themselves large are cut or left out. Whatever is cut is said in
 * the reason, with the original's size and sha256, and marked in the
 * dlq-*-truncated headers (TRUNCATION_HEADERS), from which the DLQ tool
 * refuses to replay it: the whole message stays at its source offset while
 * that topic retains it. `bare` leaves the value out altogether: the
 * fallback when the DLQ topic refused even the fitted record (its own
 * max.message.bytes may be lower than the broker's).
 */
import { createHash } from 'node:crypto';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { type DeadLetterRecord, TRUNCATION_HEADERS } from '../messages/dead-letter';

export const ORIGINAL_BYTES_KEPT_WHOLE = 512 * 1024;
export const VALUE_PREFIX_BYTES = 64 * 1024;
/** Key and headers beyond this are cut (key) and left out (headers) once the whole does not fit. */
export const KEY_AND_HEADERS_BYTES = 64 * 1024;
export const KEY_PREFIX_BYTES = 1024;
/** Reasons quote validation issues and database errors; both ends of a long one are kept. */
export const REASON_CHARACTERS = 8000;

export interface DeadLetterSource {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

export interface FittedDeadLetter {
  readonly record: DeadLetterRecord;
  /** The DLQ message's own Kafka headers: the dlq-source-* and dlq-reason, and any truncation marks. */
  readonly headers: Record<string, string>;
  /** True when anything of the original was cut or left out. */
  readonly truncated: boolean;
}

export interface FitOptions {
  readonly now: Date;
  /** Leave the value out (the DLQ topic refused the fitted record); `refusal` says why. */
  readonly bare?: { readonly refusal: string };
}

export function fitDeadLetter(
  source: DeadLetterSource,
  reason: string,
  options: FitOptions,
): FittedDeadLetter {
  const { message } = source;
  const headers = headersAsText(message.headers);
  const key = message.key ?? null;
  const value = message.value ?? null;
  const keyBytes = key?.length ?? 0;
  const valueBytes = value?.length ?? 0;
  const headerBytes = Object.entries(headers).reduce(
    (sum, [name, text]) => sum + Buffer.byteLength(name) + Buffer.byteLength(text),
    0,
  );

  const bare = options.bare !== undefined;
  const whole = !bare && keyBytes + valueBytes + headerBytes <= ORIGINAL_BYTES_KEPT_WHOLE;
  // Past the budget, a large key is cut and large headers left out, then the value is sized.
  const shrinkKeyAndHeaders = !whole && keyBytes + headerBytes > KEY_AND_HEADERS_BYTES;
  const keptKey =
    shrinkKeyAndHeaders && key !== null && keyBytes > KEY_PREFIX_BYTES
      ? key.subarray(0, KEY_PREFIX_BYTES)
      : key;
  const dropHeaders = shrinkKeyAndHeaders && Object.keys(headers).length > 0;
  const keptHeaders = dropHeaders ? {} : headers;
  const room = ORIGINAL_BYTES_KEPT_WHOLE - (keptKey?.length ?? 0) - (dropHeaders ? 0 : headerBytes);
  const keptValue =
    value === null || whole || (!bare && valueBytes <= room)
      ? value
      : bare
        ? null
        : value.subarray(0, VALUE_PREFIX_BYTES);

  const notes: string[] = [];
  const marks: Record<string, string> = {};
  if (value !== null && keptValue !== value) {
    const sha256 = createHash('sha256').update(value).digest('hex');
    notes.push(
      keptValue === null
        ? `original value of ${valueBytes} bytes left out (sha256 ${sha256})`
        : `original value of ${valueBytes} bytes truncated to ${keptValue.length} bytes (sha256 ${sha256})`,
    );
    marks[TRUNCATION_HEADERS.valueBytes] = String(valueBytes);
    marks[TRUNCATION_HEADERS.valueSha256] = sha256;
  }
  if (key !== null && keptKey !== key) {
    notes.push(`original key of ${keyBytes} bytes truncated to ${KEY_PREFIX_BYTES} bytes`);
    marks[TRUNCATION_HEADERS.keyBytes] = String(keyBytes);
  }
  if (dropHeaders) {
    const count = Object.keys(headers).length;
    notes.push(`${count} original header(s) of ${headerBytes} bytes left out`);
    marks[TRUNCATION_HEADERS.headersDropped] = String(count);
  }
  const fullReason =
    notes.length === 0
      ? reason
      : `${reason} [dead letter cut to fit the DLQ${bare ? ` (${options.bare.refusal})` : ''}: ` +
        `${notes.join('; ')}; the whole message is at ${source.topic} partition ` +
        `${source.partition} offset ${message.offset} while that topic retains it, and cannot be ` +
        'replayed from the DLQ]';
  const keptReason = keepBothEnds(fullReason, REASON_CHARACTERS);

  return {
    record: {
      sourceTopic: source.topic,
      sourcePartition: source.partition,
      sourceOffset: message.offset,
      reason: keptReason,
      originalKey: keptKey,
      originalValue: keptValue,
      originalHeaders: keptHeaders,
      deadLetteredAt: options.now.toISOString(),
    },
    headers: {
      'dlq-source-topic': source.topic,
      'dlq-source-partition': String(source.partition),
      'dlq-source-offset': message.offset,
      'dlq-reason': keepBothEnds(keptReason, 1000),
      ...marks,
    },
    truncated: notes.length > 0,
  };
}

/** What broke is at the start of a reason, the underlying complaint and the fix at its end. */
function keepBothEnds(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const head = Math.ceil((limit - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (limit - 1 - head))}`;
}

function headersAsText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    text[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return text;
}
