/**
 * Small things a fault run holds: the clean-up list (everything the run
 * created is undone, last first, even when the run fails or is interrupted),
 * free ports for the services and workers it starts, and its output line type.
 */
import net from 'node:net';

export type Say = (line: string) => void;

/** Things to undo, last first; each runs even when an earlier one fails. */
export class CleanUp {
  private readonly steps: { what: string; undo: () => Promise<unknown> }[] = [];
  add(what: string, undo: () => Promise<unknown>): void {
    this.steps.push({ what, undo });
  }
  async run(say: Say): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      await step
        .undo()
        .catch((error: unknown) =>
          say(`clean-up: ${step.what} failed: ${(error as Error).message}`),
        );
    }
  }
}

/** A TCP port nobody listens on now, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
