/**
 * The operators' console's static files (console/ at the package root: HTML,
 * CSS and hand-written ES modules, no build step), served under /console/
 * without the token: they hold no data. Every figure the console shows comes
 * from the guarded routes, which the browser asks with the token it keeps
 * for the session.
 *
 * Only files directly in console/ or its subfolders with plain names are
 * served (no "..", no dot files); each is read once and kept. The
 * Content-Security-Policy lets the page load nothing but its own files and
 * talk to nothing but this server: no CDN, no inline script, no framing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

// src/ops → console/ when run from source; dist/src/ops → console/ once compiled.
const roots = [
  path.resolve(__dirname, '..', '..', 'console'),
  path.resolve(__dirname, '..', '..', '..', 'console'),
];

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export const consoleSecurityHeaders: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export type AssetAnswer =
  | { status: 200; contentType: string; body: Buffer }
  | { status: 301; location: string }
  | { status: 404 };

const cache = new Map<string, Buffer>();

/** The file for a /console path; /console/ is index.html. */
export async function consoleAsset(urlPath: string): Promise<AssetAnswer> {
  if (urlPath === '/console') return { status: 301, location: '/console/' };
  const relative = urlPath === '/console/' ? 'index.html' : urlPath.slice('/console/'.length);
  const plainName = /^(?:[a-z0-9][a-z0-9_-]*\/)*[a-z0-9][a-z0-9_.-]*\.[a-z0-9]+$/i;
  const contentType = contentTypes[path.extname(relative).toLowerCase()];
  if (!plainName.test(relative) || relative.includes('..') || contentType === undefined) {
    return { status: 404 };
  }
  const cached = cache.get(relative);
  if (cached) return { status: 200, contentType, body: cached };
  for (const root of roots) {
    try {
      const body = await readFile(path.join(root, relative));
      cache.set(relative, body);
      return { status: 200, contentType, body };
    } catch {
      // Not in this root: try the next.
    }
  }
  return { status: 404 };
}
