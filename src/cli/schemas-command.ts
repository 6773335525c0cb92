/**
 * `escrow-worker schemas register | check`: the schema registry steps of a
 * deploy pipeline, for registries the worker may only read
 * (SCHEMA_AUTO_REGISTER=false). `register` registers every topic's schema from
 * schemas/ under `<TOPIC_PREFIX><topic>-value` (BACKWARD compatibility, as the
 * worker itself would); `check` registers nothing and says, per subject,
 * whether the project's schema is registered and whether it is compatible
 * with the latest registered version. Exit 0 when all is well, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { RegistryCodec } from '../codec/registry-codec';
import { inboundTopics, outboundTopics } from '../codec/schemas';
import { loadConfig } from '../config';
import { renderTable } from '../format/text-table';
import { UsageError } from './command';

export const help = `usage: escrow-worker schemas register [--json]
       escrow-worker schemas check [--json]

register  registers the schema of every topic the worker reads or writes (schemas/*.avsc)
          under <TOPIC_PREFIX><topic>-value at SCHEMA_REGISTRY_URL, with BACKWARD
          compatibility; run it from the deploy pipeline before a worker started with
          SCHEMA_AUTO_REGISTER=false. Exit 0 when every subject holds its schema.
check     registers nothing: per subject, whether the project's schema is registered
          (its id) and whether it is compatible with the latest registered version.
          Exit 0 when every schema is registered and compatible, 1 otherwise.`;

const topics = [...inboundTopics, ...outboundTopics];

export async function run(args: readonly string[]): Promise<number> {
  let action: string | undefined;
  let json: boolean;
  try {
    const parsed = parseArgs({
      args: [...args],
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
    if (parsed.values.help) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
    [action] = parsed.positionals;
    json = parsed.values.json === true;
    if (parsed.positionals.length !== 1 || (action !== 'register' && action !== 'check'))
      throw new UsageError('name one action: register or check');
  } catch (error) {
    process.stderr.write(`escrow-worker schemas: ${(error as Error).message}\n\n${help}\n`);
    return 2;
  }
  const config = loadConfig();
  const codec = RegistryCodec.fromConfig(config);
  if (action === 'register') await codec.registerSchemas(topics);
  const checks = await codec.checkSchemas(topics);
  const good = checks.every((check) => check.id !== null && check.compatible !== false);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: good, subjects: checks })}\n`);
  } else {
    const lines = renderTable(
      [{ title: 'subject' }, { title: 'registered id', align: 'right' }, { title: 'compatible' }],
      checks.map((check) => [
        check.subject,
        check.id === null ? 'not registered' : String(check.id),
        check.compatible === null ? 'no version yet' : check.compatible ? 'yes' : 'NO',
      ]),
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    if (!good)
      process.stdout.write(
        '\nsome subjects lack the project’s schema or are incompatible: run `escrow-worker schemas register` ' +
          '(an incompatible subject needs a compatible schema change or a new topic version)\n',
      );
  }
  return good ? 0 : 1;
}
