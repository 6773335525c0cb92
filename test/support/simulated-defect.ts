/**
 * A defect on the database side, for tests of what the worker does when a
 * write fails for good: a trigger refuses every payments row with one gateway
 * reference (check_violation, a permanent error), with the message
 * "simulated defect refusing <reference>". `fixed` drops it again.
 */
import type { Knex } from 'knex';

export async function refusePaymentsWithReference(db: Knex, reference: string) {
  if (!/^[a-z0-9-]+$/.test(reference)) throw new Error(`unsafe reference ${reference}`);
  const name = `refuse_${reference.replaceAll('-', '_')}`;
  await db.raw(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'simulated defect refusing ${reference}' USING ERRCODE = 'check_violation'; END $$;
    CREATE TRIGGER ${name} BEFORE INSERT ON payments
      FOR EACH ROW WHEN (NEW.gateway_reference = '${reference}') EXECUTE FUNCTION ${name}();
  `);
  return { fixed: () => db.raw(`DROP TRIGGER ${name} ON payments`) };
}
