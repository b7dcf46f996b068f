// A real nginx (Debian `nginx`) for tests, serving in a test namespace: `/ok` (return 200), missing files (404),
// `/files/` (small.txt, a 64 KiB big.txt and a 2 MiB large.txt), `/chunked/` (the same files with a chunked body, through sub_filter),
// `/slow/` and `/slow-chunked/` (the same at 4 MB/s)
// and, on a second port, the same over TLS 1.2/1.3 with a self-signed certificate made here by `openssl req`.
// Configuration, logs, pid file and certificate live in a temp dir that stop() removes.
import { execFileSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestHost } from './netns.ts'

export interface NginxServer {
  port: number
  tlsPort: number
  /** Bodies served under /files/ and /chunked/. */
  files: Record<string, Buffer>
  /** The PEM certificate clients must trust (curl --cacert). */
  certificate: string
  /** error.log so far, for failure messages. */
  log(): string
  stop(): Promise<void>
}

export interface NginxOptions {
  host: TestHost
  port: number
  tlsPort: number
  workers?: number
}

export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const { host, port, tlsPort } = options
  const dir = mkdtempSync(join(tmpdir(), 'netlens-nginx-'))
  const root = join(dir, 'www')
  mkdirSync(root)
  const files = {
    'small.txt': Buffer.from('small file served by nginx\n'),
    'big.txt': Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789\n'.repeat(1772)).subarray(0, 65536),
    // Long enough, fetched at a limited rate, for the http receiver to skip most of its body in the kernel.
    'large.txt': Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789\n'.repeat(56_680)).subarray(0, 2 * 1024 * 1024),
  }
  for (const [name, body] of Object.entries(files)) writeFileSync(join(root, name), body)
  const certificate = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=netlens.test', '-addext', `subjectAltName=IP:${host.ipv4},IP:${host.ipv6}`,
    '-keyout', key, '-out', certificate,
  ], { stdio: 'ignore' })
  const listen = (p: number, extra = '') => [`listen ${host.ipv4}:${p}${extra};`, `listen [${host.ipv6}]:${p}${extra};`]
  const locations = [
    'location = /ok { return 200 "ok\\n"; }',
    `location /files/ { alias ${root}/; }`,
    `location /chunked/ { alias ${root}/; sub_filter_types *; sub_filter_once off; sub_filter "zzz" "z"; }`,
    // The same at 4 MB/s: long bodies that stay on the wire for a while, not in the client's socket buffer.
    `location /slow/ { alias ${root}/; limit_rate 4m; }`,
    `location /slow-chunked/ { alias ${root}/; limit_rate 4m; sub_filter_types *; sub_filter_once off; sub_filter "zzz" "z"; }`,
    `location / { root ${root}; }`,
  ]
  writeFileSync(join(dir, 'nginx.conf'), [
    'user root;',
    `worker_processes ${options.workers ?? 1};`,
    'daemon off;',
    'master_process on;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    '  keepalive_requests 1000000;',
    `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
    '  default_type text/plain;',
    `  server { ${listen(port).join(' ')} ${locations.join(' ')} }`,
    `  server { ${listen(tlsPort, ' ssl').join(' ')} ssl_certificate ${certificate}; ssl_certificate_key ${key};`,
    `    ${locations.join(' ')} }`,
    '}',
    '',
  ].join('\n'))

  let stderr = ''
  const child: ChildProcess = host.spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => { stderr += chunk })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const log = () => {
    let text = stderr
    try { text += readFileSync(join(dir, 'error.log'), 'utf8') } catch { /* not written yet */ }
    return text
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM to `ip netns exec` reaches nginx itself (exec replaces it); nginx stops its workers.
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      killer.unref()
      await exited
      clearTimeout(killer)
    }
    rmSync(dir, { recursive: true, force: true })
  }

  // Ready when it answers, asked from inside the namespace before any capture starts.
  for (let attempt = 0; ; attempt++) {
    try {
      host.exec('curl', ['-sf', '-o', '/dev/null', `http://${host.ipv4}:${port}/ok`])
      break
    } catch (error) {
      if (attempt >= 50 || child.exitCode !== null) {
        await stop()
        throw new Error(`nginx did not start: ${log()}`, { cause: error })
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return { port, tlsPort, files, certificate, log, stop }
}
