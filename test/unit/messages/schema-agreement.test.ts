/**
 * The zod validators and the Avro schemas describe the same messages: the same
 * fields at every level, the same nullability, the same enum symbols, and
 * every valid fixture survives an Avro round trip and the validator alike.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { z } from 'zod';
import { inboundValidators } from '../../../src/messages/inbound';
import { validMessages } from '../../support/messages';

type AvroField = { name: string; type: unknown };
type AvroRecord = { type: 'record'; name: string; fields: AvroField[] };

const schemaOf = (topic: string) =>
  JSON.parse(
    readFileSync(path.resolve(__dirname, '../../../schemas', `${topic}.avsc`), 'utf8'),
  ) as AvroRecord;

/** The object schema inside refinements, nullables and arrays. */
function unwrap(schema: z.ZodType): z.ZodType {
  const def = (
    schema as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }
  ).def;
  if ((def.type === 'nullable' || def.type === 'optional') && def.innerType)
    return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrap(def.in);
  return schema;
}

function compareRecord(record: AvroRecord, schema: z.ZodType, where: string): string[] {
  const object = unwrap(schema) as unknown as z.ZodObject;
  const shape = object.shape as Record<string, z.ZodType>;
  const problems: string[] = [];
  const avroNames = record.fields.map((field) => field.name).sort();
  const zodNames = Object.keys(shape).sort();
  if (JSON.stringify(avroNames) !== JSON.stringify(zodNames)) {
    problems.push(
      `${where}: Avro fields ${avroNames.join(',')} ≠ zod fields ${zodNames.join(',')}`,
    );
  }
  for (const field of record.fields) {
    const zodField = shape[field.name];
    if (!zodField) continue;
    const union = Array.isArray(field.type) ? (field.type as unknown[]) : [field.type];
    const nullable = union.includes('null');
    if (nullable !== zodField.safeParse(null).success) {
      problems.push(
        `${where}.${field.name}: Avro nullable ${nullable}, zod accepts null ${!nullable}`,
      );
    }
    const inner: unknown = union.find((t) => t !== 'null');
    const innerZod = unwrap(zodField) as unknown as {
      options?: string[];
      def: { type: string; element?: z.ZodType };
    };
    if (typeof inner === 'object' && inner !== null) {
      const complex = inner as { type: string; symbols?: string[]; items?: unknown; name?: string };
      if (complex.type === 'enum') {
        const same =
          JSON.stringify([...(innerZod.options ?? [])].sort()) ===
          JSON.stringify([...complex.symbols!].sort());
        if (!same) problems.push(`${where}.${field.name}: enum symbols differ`);
      } else if (complex.type === 'record') {
        problems.push(...compareRecord(complex as AvroRecord, zodField, `${where}.${field.name}`));
      } else if (complex.type === 'array') {
        const element = innerZod.def.element!;
        problems.push(
          ...compareRecord(complex.items as AvroRecord, element, `${where}.${field.name}[]`),
        );
      }
    } else {
      const expected = { string: 'string', int: 'number', long: 'number' }[inner as string];
      if (expected !== innerZod.def.type) {
        problems.push(`${where}.${field.name}: Avro ${String(inner)} but zod ${innerZod.def.type}`);
      }
    }
  }
  return problems;
}

describe.each(Object.keys(inboundValidators))('%s', (topic) => {
  const validator = inboundValidators[topic as keyof typeof inboundValidators];
  const schema = schemaOf(topic);

  test('the validator has the Avro schema fields, nullability, enum symbols and types at every level', () => {
    expect(compareRecord(schema, validator, topic)).toEqual([]);
  });

  test('every valid fixture round-trips through Avro and passes the validator unchanged', () => {
    const type = avro.Type.forSchema(schema as avro.Schema);
    for (const message of validMessages[topic as keyof typeof validMessages]) {
      const decoded: unknown = type.fromBuffer(type.toBuffer(message));
      const parsed = validator.safeParse(decoded);
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(parsed.data).toEqual(message);
    }
  });
});

test('the comparison itself notices a difference', () => {
  const schema = schemaOf('escrow.milestone-reached.v1');
  const drifted = { ...schema, fields: [...schema.fields, { name: 'extra', type: 'string' }] };
  expect(compareRecord(drifted, inboundValidators['escrow.milestone-reached.v1'], 'x')).toEqual([
    expect.stringContaining('Avro fields') as string,
  ]);
});

test('the comparison notices a changed enum symbol and a changed nullability', () => {
  const schema = schemaOf('escrow.milestone-reached.v1');
  const drifted: AvroRecord = {
    ...schema,
    fields: schema.fields.map((field) =>
      field.name === 'condition'
        ? { ...field, type: { type: 'enum', name: 'C', symbols: ['DELIVERY_CONFIRMED'] } }
        : field.name === 'finalAmount'
          ? { ...field, type: 'string' }
          : field,
    ),
  };
  expect(compareRecord(drifted, inboundValidators['escrow.milestone-reached.v1'], 'x')).toEqual([
    'x.condition: enum symbols differ',
    'x.finalAmount: Avro nullable false, zod accepts null true',
  ]);
});
