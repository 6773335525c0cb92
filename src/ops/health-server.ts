/**
 * The operations API's health endpoints: /healthz (the process is up) and
 * /readyz (Kafka, the registry, Postgres and Redis answer; the failing one is
 * named). The rest of the operations API arrives with the operations work.
 */
import http from 'node:http';

export type ReadinessCheck = () => Promise<void>;

async function runCheck(check: ReadinessCheck): Promise<string> {
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2s')), 2000)),
    ]);
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  }
}

export function startHealthServer(
  port: number,
  checks: Record<string, ReadinessCheck>,
): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/healthz') return reply(200, { status: 'ok' });
    if (request.url !== '/readyz') return reply(404, { error: `no route ${request.url ?? ''}` });
    void Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check)] as const),
    ).then((results) => {
      const ready = results.every(([, state]) => state === 'ok');
      reply(ready ? 200 : 503, {
        status: ready ? 'ready' : 'not ready',
        checks: Object.fromEntries(results),
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
