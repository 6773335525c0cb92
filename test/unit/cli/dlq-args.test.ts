/** `escrow-worker dlq` arguments: what each form asks for, and usage errors that name the problem. */
import { UsageError } from '../../../src/cli/command';
import { parseDlqArgs } from '../../../src/cli/dlq-command';
import { parseEntryIds } from '../../../src/dlq/dead-letter';

const usageError = (args: string[]) => {
  try {
    parseDlqArgs(args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`dlq ${args.join(' ')} was accepted`);
};

describe('dlq list', () => {
  test('defaults: the newest 100, no filter, a table', () => {
    expect(parseDlqArgs(['list'])).toEqual({
      command: 'list',
      limit: 100,
      filter: { reason: undefined, sourceTopic: undefined },
      json: false,
    });
  });

  test('limit, filters and --json', () => {
    expect(
      parseDlqArgs([
        'list',
        '--limit',
        '0',
        '--reason',
        'wire format',
        '--source-topic',
        'escrow.orders.v1',
        '--json',
      ]),
    ).toEqual({
      command: 'list',
      limit: 0,
      filter: { reason: 'wire format', sourceTopic: 'escrow.orders.v1' },
      json: true,
    });
  });

  test.each([['-1'], ['ten'], ['1.5'], ['']])('--limit %j is a usage error', (limit) => {
    expect(usageError(['list', `--limit=${limit}`])).toContain('is not a whole number');
  });

  test('replay options do not apply to list', () => {
    expect(usageError(['list', '--all'])).toBe('--all does not apply to dlq list');
  });
});

describe('dlq replay', () => {
  test('--id takes a comma list and repeats; --offset is the same option', () => {
    expect(parseDlqArgs(['replay', '--id', '0:4,1:7', '--offset', '2:9', '--dry-run'])).toEqual({
      command: 'replay',
      selection: { ids: ['0:4', '1:7', '2:9'], force: false },
      dryRun: true,
    });
  });

  test('--all with filters and --force', () => {
    expect(parseDlqArgs(['replay', '--all', '--reason', 'processing failed', '--force'])).toEqual({
      command: 'replay',
      selection: {
        all: true,
        filter: { reason: 'processing failed', sourceTopic: undefined },
        force: true,
      },
      dryRun: false,
    });
  });

  test('needs a selection, and only one', () => {
    expect(usageError(['replay'])).toBe('dlq replay needs --id P:O[,P:O...] or --all');
    expect(usageError(['replay', '--all', '--id', '0:1'])).toBe(
      'give either --id or --all, not both',
    );
  });

  test('filters belong to --all', () => {
    expect(usageError(['replay', '--id', '0:1', '--reason', 'x'])).toContain(
      '--reason does not apply to --id',
    );
  });

  test('a malformed id is a usage error naming it', () => {
    expect(usageError(['replay', '--id', '0:1,zero:2'])).toContain(
      '"zero:2" is not a DLQ entry id',
    );
  });
});

test('help, unknown subcommands and options', () => {
  expect(parseDlqArgs(['--help'])).toEqual({ command: 'help' });
  expect(parseDlqArgs(['list', '-h'])).toEqual({ command: 'help' });
  expect(usageError([])).toBe('dlq needs a subcommand: list or replay');
  expect(usageError(['purge'])).toBe('unknown subcommand "purge"');
  expect(usageError(['list', '--since', 'x'])).toContain("Unknown option '--since'");
  expect(usageError(['list', 'extra'])).toBe('unexpected argument "extra"');
});

describe('entry ids', () => {
  test('normalised and deduplicated', () => {
    expect(parseEntryIds(' 0:007 , 0:7,1:0 ')).toEqual(['0:7', '1:0']);
  });

  test.each([['0'], ['0:'], [':1'], ['0:-1'], ['a:b'], [',']])('%j is refused', (text) => {
    expect(() => parseEntryIds(text)).toThrow(
      expect.objectContaining({ code: 'DLQ_BAD_ID' }) as Error,
    );
  });
});
