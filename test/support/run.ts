/** Names shared by the global setup, the test files and the global teardown of one run. */
export interface TestRun {
  runId: string;
  templateDatabase: string;
  /** Every per-file database of this run starts with this. */
  databasePrefix: string;
  /** Every topic and consumer group of this run starts with this. */
  topicPrefix: string;
}

export function testRun(runId: string): TestRun {
  return {
    runId,
    templateDatabase: `escrow_tpl_${runId}`,
    databasePrefix: `escrow_t_${runId}_`,
    topicPrefix: `t-${runId}-`,
  };
}

export function currentTestRun(): TestRun {
  const runId = process.env.ESCROW_TEST_RUN_ID;
  if (!runId) {
    throw new Error(
      'ESCROW_TEST_RUN_ID is not set: run integration tests through jest (npm test).',
    );
  }
  return testRun(runId);
}
