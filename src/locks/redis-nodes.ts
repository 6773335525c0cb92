/**
 * How every Redis node of REDIS_URL is reached: the credentials come from its
 * URL (`rediss://user:password@host:port`, which ioredis reads), and a
 * rediss:// node gets TLS with the CA of REDIS_CA_FILE (or Node's trust store)
 * and the server's certificate checked against the host. Also how a node is
 * named in logs and errors: by its scheme, host and port, never its credentials.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';
import type { Config } from '../config';

export type RedisNodeSettings = Pick<Config, 'REDIS_URL' | 'REDIS_CA_FILE'>;

/** The node as logs and errors show it: `rediss://host:port`, without user or password. */
export function shownNode(url: string): string {
  const { protocol, host } = new URL(url);
  return `${protocol}//${host}`;
}

/** The host (an IPv6 address without its brackets) and port a node's URL names. */
export function hostAndPort(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) };
}

export function usesTls(url: string): boolean {
  return new URL(url).protocol === 'rediss:';
}

/**
 * The connection options of one node besides its URL. The CA is read once per
 * lock service; loadConfig has checked that the file can be read.
 */
export function nodeOptions(url: string, ca: Buffer | undefined): RedisOptions {
  if (!usesTls(url)) return {};
  const { host } = hostAndPort(url);
  // Node verifies the certificate against the host it connects to; the server
  // name is sent as well (SNI) when the host is a name, which RFC 6066 reserves it for.
  return { tls: { ...(ca ? { ca } : {}), ...(isIP(host) === 0 ? { servername: host } : {}) } };
}

export function readCa(settings: Pick<Config, 'REDIS_CA_FILE'>): Buffer | undefined {
  return settings.REDIS_CA_FILE === undefined ? undefined : readFileSync(settings.REDIS_CA_FILE);
}
