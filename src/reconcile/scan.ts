/**
 * Chunked scans, so that a ledger of tens of millions of entries is checked in
 * bounded steps with progress, never loaded whole. A scan walks a table by its
 * key (keyset pagination): each chunk is the key range (after, upTo], found by
 * one index lookup, and every check's SQL for that chunk filters on the range
 * and does its work set-based in Postgres.
 */
import type { Knex } from 'knex';
import type { CheckRun } from './types';

export interface KeyRange {
  /** Exclusive lower bound; null for the first chunk. */
  readonly after: readonly string[] | null;
  /** Inclusive upper bound; null for the last chunk (everything after `after`). */
  readonly upTo: readonly string[] | null;
}

/**
 * The chunk's condition for a WHERE clause, e.g. `(t.transaction_id) > (?) AND
 * (t.transaction_id) <= (?)`. Column names come from the checks, never from input.
 */
export function inRange(
  columns: readonly string[],
  range: KeyRange,
): { sql: string; bindings: string[] } {
  const tuple = `(${columns.join(', ')})`;
  const marks = `(${columns.map(() => '?').join(', ')})`;
  const parts: string[] = [];
  const bindings: string[] = [];
  if (range.after) {
    parts.push(`${tuple} > ${marks}`);
    bindings.push(...range.after);
  }
  if (range.upTo) {
    parts.push(`${tuple} <= ${marks}`);
    bindings.push(...range.upTo);
  }
  return { sql: parts.length > 0 ? parts.join(' AND ') : 'true', bindings };
}

/**
 * Yields the key ranges of `table` in chunks of `chunkSize` rows. Keys travel as
 * text (bigint ids stay exact); Postgres casts them back when comparing.
 */
export async function* keyRanges(
  db: Knex,
  table: string,
  columns: readonly string[],
  chunkSize: number,
): AsyncGenerator<KeyRange> {
  const list = columns.join(', ');
  const asText = columns.map((column, index) => `${column}::text AS k${index}`).join(', ');
  let after: readonly string[] | null = null;
  for (;;) {
    const where: string = after ? `WHERE (${list}) > (${columns.map(() => '?').join(', ')})` : '';
    // OFFSET on the key's index reads chunkSize index entries: the next boundary.
    const result: { rows: Record<string, string>[] } = await db.raw(
      `SELECT ${asText} FROM ${table} ${where} ORDER BY ${list} OFFSET ? LIMIT 1`,
      [...(after ?? []), chunkSize - 1],
    );
    const boundary = result.rows[0];
    const upTo: string[] | null = boundary
      ? columns.map((_, index) => boundary[`k${index}`]!)
      : null;
    yield { after, upTo };
    if (upTo === null) return;
    after = upTo;
  }
}

/** Runs `work` for every chunk of `table`, reporting progress in rows against `total`. */
export async function forEachChunk(
  run: CheckRun,
  scan: { table: string; columns: readonly string[]; total: number },
  work: (range: KeyRange) => Promise<void>,
): Promise<void> {
  let done = 0;
  run.progress(0, scan.total);
  for await (const range of keyRanges(run.db, scan.table, scan.columns, run.options.chunkSize)) {
    await work(range);
    done = range.upTo === null ? scan.total : Math.min(done + run.options.chunkSize, scan.total);
    run.progress(done, scan.total);
  }
}
