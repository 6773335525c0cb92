/**
 * Links a ledger transaction written by a test outside the ledger service
 * into its order's hash chain, as the service would have: its hash built on
 * the order's chain head, the head moved to it. Needs triggers off
 * (session_replication_role = replica): it updates a ledger row.
 */
import type { Knex } from 'knex';
import { chainGenesis, chainHash } from '../../src/ledger/chain';
import { readChainPage } from '../../src/ledger/chain-read';

export async function linkIntoChain(trx: Knex.Transaction, transactionId: string): Promise<void> {
  const { rows } = await trx.raw<{ rows: { chain_key: string }[] }>(
    `SELECT coalesce(order_id, '') AS chain_key FROM ledger_transactions WHERE transaction_id = ?`,
    [transactionId],
  );
  const chainKey = rows[0]!.chain_key;
  // The page after (its order, the id before it) starts with the transaction itself.
  const [link] = await readChainPage(
    trx,
    { chainKey, transactionId: (BigInt(transactionId) - 1n).toString() },
    1,
  );
  const previous = link!.headHash ?? chainGenesis;
  const hash = chainHash(previous, link!);
  await trx('ledger_transactions')
    .where({ transaction_id: transactionId })
    .update({ previous_hash: previous, hash });
  await trx.raw(
    `INSERT INTO ledger_chain_heads (order_id, hash, length) VALUES (?, ?, 1)
     ON CONFLICT (order_id) DO UPDATE SET hash = excluded.hash,
       length = ledger_chain_heads.length + 1`,
    [chainKey, hash],
  );
}
