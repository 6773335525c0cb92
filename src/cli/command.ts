/**
 * What every `escrow-worker` subcommand module exports: `run` takes the
 * arguments after the command's name and resolves to the process exit code
 * (0 success, 1 a failure or discrepancy, 2 a usage error).
 */
export interface CommandModule {
  run(args: readonly string[]): Promise<number>;
}

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
