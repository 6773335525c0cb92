/**
 * Streams a gateway report file, batch by batch, as ReportLines: csv-parse
 * reads it with its header as column names (RFC 4180 quoting, a BOM
 * dropped, blank lines skipped), the header is checked against the
 * format's required columns, and each record goes through the format. A
 * file of any length is read in bounded memory: only one batch is held.
 * A line that cannot be read stops the run with the line and the column.
 */
import { createReadStream } from 'node:fs';
import { CsvError, parse } from 'csv-parse';
import { BadReportFile, type ReportFormat, type ReportLine } from './report-line';

export interface ReadProgress {
  readonly linesRead: number;
  readonly skipped: number;
}

export interface ReportReading {
  /** Rows the format knows are not reconciled movements (fees, transfers, ...). */
  skipped: number;
  /** Data lines read (the header and blank lines not counted). */
  linesRead: number;
}

export async function* readReport(
  path: string,
  format: ReportFormat,
  batchSize: number,
  reading: ReportReading,
): AsyncGenerator<ReportLine[]> {
  const parser = createReadStream(path).pipe(
    parse({
      bom: true,
      columns: (header: string[]) => checkHeader(header, format),
      skip_empty_lines: true,
      trim: false,
      info: true,
    }),
  );
  let batch: ReportLine[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      reading.linesRead += 1;
      const line = format.toLine(record, info.lines);
      if (line === null) reading.skipped += 1;
      else batch.push(line);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  } catch (error) {
    throw asBadFile(error, path);
  }
  if (batch.length > 0) yield batch;
}

function checkHeader(header: string[], format: ReportFormat): string[] {
  const names = header.map((name) => name.trim());
  const missing = format.requiredColumns.filter((column) => !names.includes(column));
  if (missing.length > 0) {
    throw new BadReportFile(
      1,
      missing.join(', '),
      `the header lacks ${missing.length === 1 ? 'this column' : 'these columns'} of the ` +
        `${format.name} format (it has: ${names.join(', ') || 'nothing'}); export the report ` +
        `with them, or choose the --format the file is in`,
    );
  }
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (repeated.length > 0)
    throw new BadReportFile(1, repeated[0]!, 'appears twice in the header; each column once');
  return names;
}

function asBadFile(error: unknown, path: string): unknown {
  if (error instanceof BadReportFile) return error;
  if (error instanceof CsvError) {
    const lines = typeof error.lines === 'number' ? error.lines : 0;
    return new BadReportFile(lines, null, `not valid CSV: ${error.message}`);
  }
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    return new BadReportFile(0, null, `cannot read ${path} (${String(code)})`);
  }
  return error;
}
