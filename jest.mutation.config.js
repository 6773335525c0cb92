// The jest configuration Stryker runs (stryker.config.mjs, npm run test:mutation):
// the `unit` project of jest.config.js alone, as a whole configuration with no
// `projects`. Given jest.config.js itself, Stryker's runner kept its projects and
// ran the integration tests too (their global setup starting a Kafka of its own
// per test-runner process), so the file it reads holds nothing else.
const base = require('./jest.config.js');

const { displayName: _unit, ...unit } = base.projects.find(
  (project) => project.displayName === 'unit',
);

/** @type {import('jest').Config} */
module.exports = {
  ...unit,
  testTimeout: base.testTimeout,
  // A failed property stops at its first counterexample under Stryker (see the file).
  setupFilesAfterEnv: ['<rootDir>/test/support/mutation-setup.ts'],
};
