/**
 * The schema registry as a governed deployment exposes it: behind nginx with
 * TLS (a certificate signed by a CA made here) and HTTP basic auth, proxying
 * to the local registry. nginx comes from Debian's packages and is installed
 * when missing. Everything lives in a temporary folder that stop() removes.
 */
import { randomBytes } from 'node:crypto';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commandExists, portOpen, run, waitFor } from '../../infra/services/shell';
import { freePort } from '../faults/run-resources';
import { issueServerCertificate, makeCertificateAuthority } from './certificates';

export interface ScratchRegistryProxy {
  /** https://127.0.0.1:<port> */
  url: string;
  username: string;
  password: string;
  /** A file holding the password, for SCHEMA_REGISTRY_PASSWORD_FILE. */
  passwordFile: string;
  /** The CA that signs the proxy's certificate, for SCHEMA_REGISTRY_CA_FILE. */
  caFile: string;
  /** A CA that signs nothing here: a client trusting only it refuses the proxy. */
  otherCaFile: string;
  stop(): Promise<void>;
}

async function ensureNginx(): Promise<void> {
  if (commandExists('nginx') || commandExists('/usr/sbin/nginx')) return;
  const install = () =>
    run('apt-get', ['install', '-y', '--no-install-recommends', 'nginx'], { timeoutMs: 300_000 });
  process.env.DEBIAN_FRONTEND = 'noninteractive';
  let result = await install();
  if (result.code !== 0) {
    await run('apt-get', ['update'], { timeoutMs: 300_000 });
    result = await install();
  }
  if (result.code !== 0)
    throw new Error(
      `the registry proxy needs nginx, and installing it failed: ${result.output.slice(-400)}. ` +
        'Install it (Debian: apt-get install -y nginx).',
    );
}

export async function startRegistryProxy(upstream: string): Promise<ScratchRegistryProxy> {
  await ensureNginx();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escrow-registry-proxy-'));
  const ca = await makeCertificateAuthority(dir, 'registry-ca');
  const other = await makeCertificateAuthority(dir, 'other-ca');
  const server = await issueServerCertificate(ca, 'registry-proxy');
  const username = 'escrow-deployer';
  const password = randomBytes(12).toString('hex');
  const passwordFile = path.join(dir, 'registry-password');
  writeFileSync(passwordFile, `${password}\n`);
  const hash = spawnSync('openssl', ['passwd', '-apr1', password], { encoding: 'utf8' });
  if (hash.status !== 0) throw new Error(`openssl passwd failed: ${hash.stderr}`);
  writeFileSync(path.join(dir, 'htpasswd'), `${username}:${hash.stdout.trim()}\n`);
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, temp));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      // Run as root (the tests' user here), workers must read this folder: keep them root too.
      process.getuid?.() === 0 ? 'user root;' : '',
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (temp) => `  ${temp === 'body' ? 'client_body' : temp}_temp_path ${dir}/${temp};`,
      ),
      '  server {',
      `    listen 127.0.0.1:${port} ssl;`,
      `    ssl_certificate ${server.certFile};`,
      `    ssl_certificate_key ${server.keyFile};`,
      '    location / {',
      '      auth_basic "schema registry";',
      `      auth_basic_user_file ${dir}/htpasswd;`,
      `      proxy_pass ${upstream};`,
      '      proxy_set_header Authorization "";',
      '    }',
      '  }',
      '}',
    ].join('\n'),
  );
  const nginx = commandExists('nginx') ? 'nginx' : '/usr/sbin/nginx';
  const child: ChildProcess = spawn(nginx, ['-c', conf, '-p', dir, '-e', `${dir}/error.log`], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `https://127.0.0.1:${port}`;
  await waitFor(
    'the registry proxy (nginx)',
    () => portOpen(port),
    15_000,
    () => `see ${dir}/error.log`,
  );
  return {
    url,
    username,
    password,
    passwordFile,
    caFile: ca.certFile,
    otherCaFile: other.certFile,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
