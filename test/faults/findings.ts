/**
 * What the checks found: every discrepancy counted under the check that found
 * it, with the first few kept as readable examples. The run passes only when
 * the total is zero.
 */
export interface CheckOutcome {
  name: string;
  /** What the check proves when it finds nothing. */
  proves: string;
  count: number;
  examples: string[];
}

export class Findings {
  private readonly checks = new Map<string, CheckOutcome>();

  constructor(private readonly maxExamples = 8) {}

  /** Registers a check, so a clean one still shows in the report. */
  check(name: string, proves: string): void {
    if (!this.checks.has(name)) this.checks.set(name, { name, proves, count: 0, examples: [] });
  }

  add(name: string, problem: string, count = 1): void {
    const check = this.checks.get(name);
    if (!check) throw new Error(`discrepancy for unregistered check ${name}: ${problem}`);
    check.count += count;
    if (check.examples.length < this.maxExamples) check.examples.push(problem);
  }

  get total(): number {
    return [...this.checks.values()].reduce((sum, check) => sum + check.count, 0);
  }

  all(): CheckOutcome[] {
    return [...this.checks.values()];
  }
}
