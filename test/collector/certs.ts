// Test certificates made with the openssl CLI: a throwaway CA and a server certificate it signs for 127.0.0.1
// (IP SAN, as the collector is reached by address), in a directory the caller removes.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TestCertificates {
  caFile: string
  certFile: string
  keyFile: string
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export function makeCertificates(dir: string): TestCertificates {
  const caKey = join(dir, 'ca.key')
  const caFile = join(dir, 'ca.pem')
  const keyFile = join(dir, 'server.key')
  const csr = join(dir, 'server.csr')
  const certFile = join(dir, 'server.pem')
  const extensions = join(dir, 'server.ext')
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=netlens test CA', '-keyout', caKey, '-out', caFile])
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=127.0.0.1', '-keyout', keyFile, '-out', csr])
  writeFileSync(extensions, 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n')
  openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '2',
    '-extfile', extensions, '-out', certFile])
  return { caFile, certFile, keyFile }
}
