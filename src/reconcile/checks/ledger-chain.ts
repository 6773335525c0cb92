/**
 * The ledger's hash chain (src/ledger/chain.ts), verified whole: every
 * transaction's content hashed again must give its stored hash (a changed
 * amount, account, cause, memo or time does not), each transaction's
 * previous_hash must be the hash of its order's transaction before it (a
 * row removed or slipped in breaks the link; two transactions claiming one
 * predecessor are a fork), and each order's chain head must name its last
 * transaction's hash and the chain's length (a removed tail, or a head left
 * for an order without transactions).
 *
 * Content mismatches are listed by transaction id, lowest first, so the
 * first example is the first transaction whose content no longer matches.
 */
import { chainGenesis, chainHash } from '../../ledger/chain';
import { type ChainCursor, readChainPage, type StoredChainLink } from '../../ledger/chain-read';
import type { CheckRun, Check, Discrepancy } from '../types';

interface ChainState {
  key: string;
  previous: string;
  length: bigint;
  last: StoredChainLink;
}

export const ledgerChainIntact: Check = {
  name: 'ledger_chain_intact',
  invariant: 'tamper evidence: every ledger transaction still matches its hash chain',
  description:
    "each transaction's content hashes to its stored hash, links to its order's previous " +
    "transaction, and each order's chain head names its last transaction",
  action:
    'treat it as a security incident: the ledger was changed outside the worker. Restore the ' +
    'listed transactions from a backup or the outbox history, find who had superuser access, and ' +
    'never edit ledger rows; corrections are new transactions',
  async run(run) {
    // Only the lowest ids are kept as examples (bounded memory however much was changed).
    let contentMismatches: { id: bigint; discrepancy: Discrepancy }[] = [];
    const byId = (a: { id: bigint }, b: { id: bigint }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const kept = Math.max(run.options.maxExamplesPerCheck, 1);
    const keepMismatch = (link: StoredChainLink, problem: string) => {
      contentMismatches.push({ id: BigInt(link.transactionId), discrepancy: about(link, problem) });
      if (contentMismatches.length < kept * 4) return;
      contentMismatches.sort(byId);
      run.foundUnlisted(contentMismatches.length - kept);
      contentMismatches = contentMismatches.slice(0, kept);
    };
    let chain: ChainState | null = null;
    let cursor: ChainCursor | null = null;
    let done = 0;
    for (;;) {
      const page = await readChainPage(run.db, cursor, run.options.chunkSize);
      if (page.length === 0) break;
      for (const link of page) {
        if (chain === null || chain.key !== link.chainKey) {
          if (chain !== null) checkHead(run, chain);
          chain = { key: link.chainKey, previous: chainGenesis, length: 0n, last: link };
        }
        const recomputed = chainHash(link.previousHash ?? chainGenesis, link);
        if (link.hash !== recomputed) {
          keepMismatch(
            link,
            `its content no longer matches its hash (stored ${short(link.hash)}, content ` +
              `hashes to ${short(recomputed)}): a column or entry was changed after it was written`,
          );
        }
        if ((link.previousHash ?? null) !== chain.previous) {
          run.found(
            about(
              link,
              `its previous_hash ${short(link.previousHash)} is not the hash of order ` +
                `${link.chainKey || '(none)'}'s transaction before it (${short(chain.previous)}): ` +
                'a transaction was removed, inserted or the chain forked here',
            ),
          );
        }
        chain = {
          key: link.chainKey,
          previous: link.hash ?? '',
          length: chain.length + 1n,
          last: link,
        };
      }
      done += page.length;
      run.progress(done, run.totals.transactions);
      const last = page[page.length - 1]!;
      cursor = { chainKey: last.chainKey, transactionId: last.transactionId };
    }
    if (chain !== null) checkHead(run, chain);
    contentMismatches.sort(byId);
    for (const { discrepancy } of contentMismatches) run.found(discrepancy);
    await headsWithoutTransactions(run);
  },
};

function checkHead(run: CheckRun, chain: ChainState): void {
  const { last } = chain;
  if (last.headHash === chain.previous && last.headLength === chain.length.toString()) return;
  run.found({
    subject: `order ${chain.key || '(none)'}'s ledger chain`,
    problem:
      last.headHash === null
        ? `has ${chain.length} transaction(s) but no chain head: the head row was removed`
        : `its head says ${last.headLength} transaction(s) ending in ${short(last.headHash)}, but ` +
          `the ledger holds ${chain.length} ending in transaction ${last.transactionId} ` +
          `(${short(chain.previous)}): transactions were removed from its end, or the head changed`,
    refs: { orderId: chain.key, transactionId: last.transactionId },
  });
}

async function headsWithoutTransactions(run: CheckRun): Promise<void> {
  const { rows } = await run.db.raw<{ rows: { order_id: string; length: string }[] }>(
    `SELECT h.order_id, h.length::text FROM ledger_chain_heads h
     WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t
                       WHERE coalesce(t.order_id, '') COLLATE "C" = h.order_id COLLATE "C")
     ORDER BY h.order_id COLLATE "C"`,
  );
  for (const row of rows) {
    run.found({
      subject: `order ${row.order_id || '(none)'}'s ledger chain`,
      problem: `its head says ${row.length} transaction(s), but the ledger holds none: they were removed`,
      refs: { orderId: row.order_id },
    });
  }
}

function about(link: StoredChainLink, problem: string): Discrepancy {
  return {
    subject: `transaction ${link.transactionId} (${link.kind} for ${link.orderId ?? '-'}/${link.milestoneId ?? '-'})`,
    problem,
    refs: {
      transactionId: link.transactionId,
      ...(link.orderId ? { orderId: link.orderId } : {}),
      causeEventId: link.causeEventId,
    },
  };
}

/** A hash as people compare it: its first 12 digits. */
const short = (hash: string | null) =>
  hash === null ? '(none)' : hash === '' ? '(the start)' : `${hash.slice(0, 12)}…`;
