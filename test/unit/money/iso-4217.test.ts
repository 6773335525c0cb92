/**
 * The currency table against ISO 4217 List One as the maintenance agency
 * published it: the XML that the currency-codes package ships unchanged
 * (a copy of list_one.xml with its publication date). Every active code is in
 * the table with the list's minor unit, and the table has nothing else but
 * the amendments published since, each named here.
 */
import { readFileSync } from 'node:fs';
import { iso4217MinorUnits } from '../../../src/domain/money';

const listOne = readFileSync(require.resolve('currency-codes/iso-4217-list-one.xml'), 'utf8');

/** Amendments after the list's publication date: code and minor unit. */
const amendedSince: Record<string, number | null> = {
  XCG: 2, // Amendment 176: Caribbean Guilder for Curaçao and Sint Maarten, from 2025-03-31
};

function publishedMinorUnits(): Map<string, number | null> {
  const units = new Map<string, number | null>();
  for (const entry of listOne.matchAll(/<CcyNtry>([\s\S]*?)<\/CcyNtry>/g)) {
    const code = /<Ccy>([A-Z]{3})<\/Ccy>/.exec(entry[1]!)?.[1];
    const minor = /<CcyMnrUnts>([^<]+)<\/CcyMnrUnts>/.exec(entry[1]!)?.[1];
    if (code === undefined || minor === undefined) continue; // "No universal currency"
    const digits = minor === 'N.A.' ? null : Number(minor);
    const seen = units.get(code);
    if (seen !== undefined && seen !== digits) {
      throw new Error(`List One gives ${code} two minor units: ${seen} and ${digits}`);
    }
    units.set(code, digits);
  }
  return units;
}

test('the published list is the one read (dated, and large enough to be whole)', () => {
  expect(/<ISO_4217 Pblshd="(\d{4}-\d{2}-\d{2})">/.exec(listOne)?.[1]).toBe('2024-06-25');
  expect(publishedMinorUnits().size).toBeGreaterThan(170);
});

test('every code on List One is in the table with its minor unit', () => {
  const differing = [...publishedMinorUnits()]
    .filter(([code, digits]) => iso4217MinorUnits[code] !== digits)
    .map(([code, digits]) => `${code}: list ${digits}, table ${iso4217MinorUnits[code]}`);
  expect(differing).toEqual([]);
});

test('the table holds nothing but List One and the named amendments', () => {
  const published = publishedMinorUnits();
  const extra = Object.entries(iso4217MinorUnits).filter(([code]) => !published.has(code));
  expect(Object.fromEntries(extra)).toEqual(amendedSince);
});
