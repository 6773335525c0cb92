/**
 * What `services:up` started, kept in .services/started.json so that
 * `services:down` stops exactly that and nothing it found already running.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const projectRoot = path.resolve(__dirname, '..', '..');
export const servicesDir = path.join(projectRoot, '.services');

export interface StartedService {
  /** The process to stop, when the service runs as a child of ours. */
  pid?: number;
  /** A fragment of its command line, to make sure the pid was not reused. */
  commandMarker?: string;
  /** How to stop it otherwise (a machine service we started with its own command). */
  stopCommand?: string[];
  startedAt: string;
}

export type ServiceName = 'kafka' | 'registry' | 'postgres' | 'redis';
export type StartedServices = Partial<Record<ServiceName, StartedService>>;

const stateFile = path.join(servicesDir, 'started.json');

export function readStarted(): StartedServices {
  if (!existsSync(stateFile)) return {};
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as StartedServices;
  } catch {
    return {};
  }
}

export function writeStarted(started: StartedServices): void {
  mkdirSync(servicesDir, { recursive: true });
  writeFileSync(stateFile, JSON.stringify(started, null, 2) + '\n');
}

export function recordStarted(name: ServiceName, service: StartedService): void {
  writeStarted({ ...readStarted(), [name]: service });
}
