// Mutation testing of the pure domain (npm run test:mutation, docs/mutation-testing.md):
// Stryker changes src/domain one mutant at a time and runs the unit tests that
// cover the change; a mutant no test notices is a rule the tests do not pin.
// Too slow for every CI stop, so .ci/run does not run it; the score is recorded.
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['src/domain/**/*.ts'],
  testRunner: 'jest',
  jest: {
    // Only the `unit` project: the integration project needs Kafka, Postgres and Redis.
    projectType: 'custom',
    configFile: 'jest.mutation.config.js',
    enableFindRelatedTests: true,
  },
  // A mutant that does not compile is set aside (CompileError), not counted. The
  // checker compiles only the domain: what a mutant there can break, and no file
  // someone is changing elsewhere in the clone can stop the run.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  coverageAnalysis: 'perTest',
  // Kept between runs: a rerun tests only the mutants of changed code or changed tests.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  // The survivors and the score table; the list of every test would bury them.
  clearTextReporter: { reportTests: false, logTests: false },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // The build machine has two cores and runs other work beside this.
  concurrency: 2,
  // The sandboxes (copies of the clone) live outside it, so the clone's eslint,
  // tsc and jest never find a second copy of the sources while a run is going.
  tempDirName: join(tmpdir(), 'escrow-worker-stryker'),
  // Not needed to run the unit tests, and large (the Node binary, local services).
  ignorePatterns: ['/.tools', '/.services', '/dist', '/coverage', '/infra/*/target'],
  thresholds: { high: 90, low: 80, break: null },
};
