// Loaded before each unit test file only under mutation testing (stryker.config.mjs).
// A property that a mutant breaks fails at its first counterexample instead of
// shrinking it: the mutant is killed either way, and shrinking a failed sequence of
// up to 60 escrow commands takes longer than the mutant's time limit, which would
// turn a kill into a timeout and a test-runner restart.
import fc from 'fast-check';

fc.configureGlobal({ endOnFailure: true });
