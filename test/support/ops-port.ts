/**
 * A port for a test worker's operations API. Below Linux's ephemeral range
 * (32768 and up by default): a port picked inside it can be the local port of
 * one of the many outgoing connections a test run holds (Postgres pools,
 * Kafka clients), and then the worker cannot listen on it and never starts.
 */
export function randomOpsPort(): number {
  return 20_000 + Math.floor(Math.random() * 12_000);
}
