/**
 * Plain monospace text for the operator commands and the demo: aligned
 * tables and wrapped paragraphs. Hand-written because it is two small
 * functions; a table library would be a dependency for forty lines.
 */

export interface Column {
  title: string;
  /** Amounts and versions read best right-aligned, so their digits line up. */
  align?: 'left' | 'right';
}

/** A header, a rule and the rows, each column as wide as its widest cell. */
export function renderTable(columns: readonly Column[], rows: readonly string[][]): string[] {
  const widths = columns.map((column, index) =>
    Math.max(column.title.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const width = widths[index] ?? 0;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((column) => column.title)),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...rows.map(line),
  ];
}

/** Breaks a paragraph into lines of at most `width` characters, each starting with `indent`. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter((part) => part.length > 0)) {
    if (current.length > 0 && indent.length + current.length + 1 + word.length > width) {
      lines.push(indent + current);
      current = word;
    } else {
      current = current.length > 0 ? `${current} ${word}` : word;
    }
  }
  if (current.length > 0) lines.push(indent + current);
  return lines;
}

export const indentLines = (lines: readonly string[], indent = '  '): string[] =>
  lines.map((line) => (line.length > 0 ? indent + line : line));
