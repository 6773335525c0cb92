/**
 * How the project reaches its schema registry: the URL, HTTP basic auth
 * (SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD) and, over https, the CA
 * that signs it (SCHEMA_REGISTRY_CA_FILE; Node's trust store when unset). The
 * registry client and the project's own calls (compatibility settings,
 * look-ups, readiness) go the same way. A refusal that settings cause — bad
 * credentials, an untrusted certificate — is told apart from an outage: it is
 * not retried, and its message names the variable to fix (never the password).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Config } from '../config';
import { untrustedCertificateCodes } from '../net/certificate-codes';

export interface RegistryAccess {
  readonly username?: string;
  readonly password?: string;
  readonly caFile?: string;
}

export const registryAccess = (
  config: Pick<
    Config,
    'SCHEMA_REGISTRY_USERNAME' | 'SCHEMA_REGISTRY_PASSWORD' | 'SCHEMA_REGISTRY_CA_FILE'
  >,
): RegistryAccess => ({
  username: config.SCHEMA_REGISTRY_USERNAME,
  password: config.SCHEMA_REGISTRY_PASSWORD,
  caFile: config.SCHEMA_REGISTRY_CA_FILE,
});

/** The registry refused what the settings give it: fix them, retrying cannot help. */
export class RegistryAccessRefused extends Error {
  readonly code = 'REGISTRY_ACCESS_REFUSED';
  readonly retryable = false;
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'RegistryAccessRefused';
  }
}

/** The https agent with the CA file, for the registry client and for registryRequest. */
export function registryAgent(url: string, access: RegistryAccess): https.Agent | undefined {
  if (!url.startsWith('https:') || access.caFile === undefined) return undefined;
  return new https.Agent({ ca: readFileSync(access.caFile), keepAlive: true });
}

export const basicAuth = (access: RegistryAccess) =>
  access.username !== undefined && access.password !== undefined
    ? { username: access.username, password: access.password }
    : undefined;

/** Translates what the settings caused; any other failure is returned as it is. */
export function accessProblem(url: string, error: Error): Error {
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (untrustedCertificateCodes.has(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID')
  )
    return new RegistryAccessRefused(
      `the schema registry at ${url} presented a certificate this process does not trust (${code}): ` +
        'set SCHEMA_REGISTRY_CA_FILE to the CA that signs it (PEM), and check that SCHEMA_REGISTRY_URL names the host the certificate is for',
      { cause: error },
    );
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER')
    return new RegistryAccessRefused(
      `the schema registry at ${url} does not speak TLS as the URL asks (${code}): ` +
        'use http:// for a plain-text registry, https:// for one behind TLS',
      { cause: error },
    );
  return error;
}

export const refusedCredentials = (url: string, status: number, access: RegistryAccess) =>
  new RegistryAccessRefused(
    `the schema registry at ${url} answered ${status}: ` +
      (access.username === undefined
        ? 'it needs credentials: set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE)'
        : `it refused the user ${JSON.stringify(access.username)}: check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD, and that this user may do what the worker asks (read-only registries: SCHEMA_AUTO_REGISTER=false)`),
  );

export interface RegistryAnswer {
  readonly status: number;
  readonly text: string;
}

/** A registry as calls reach it: its URL, its access, and the https agent built once for both. */
export interface RegistryEndpoint {
  readonly url: string;
  readonly access: RegistryAccess;
  readonly agent: https.Agent | undefined;
}

/** One HTTP call to the registry with the access settings; at most `timeoutMs`. */
export function registryRequest(
  { url, access, agent }: RegistryEndpoint,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<RegistryAnswer> {
  const target = new URL(`${url.replace(/\/$/, '')}${path}`);
  const client = target.protocol === 'https:' ? https : http;
  const auth = basicAuth(access);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      {
        method,
        agent,
        timeout: timeoutMs,
        headers: {
          Accept: 'application/vnd.schemaregistry.v1+json, application/json',
          ...(payload === undefined
            ? {}
            : { 'Content-Type': 'application/vnd.schemaregistry.v1+json' }),
          ...(auth
            ? {
                Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
              }
            : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () =>
      request.destroy(
        Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
      ),
    );
    request.on('error', (error) => reject(accessProblem(url, error)));
    request.end(payload);
  });
}
