// Test certificates made with the openssl CLI: a throwaway CA, a server certificate it signs for 127.0.0.1 (IP
// SAN, as the collector is reached by address) and a client certificate for mutual TLS, in a directory the caller
// removes.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TestCertificates {
  caFile: string
  certFile: string
  keyFile: string
  clientCertFile: string
  clientKeyFile: string
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

/** A key and a certificate signed by the CA, with the given extensions; returns [certFile, keyFile]. */
function issue(dir: string, name: string, subject: string, extensions: string, ca: { file: string; key: string }): [string, string] {
  const keyFile = join(dir, `${name}.key`)
  const csr = join(dir, `${name}.csr`)
  const certFile = join(dir, `${name}.pem`)
  const extensionsFile = join(dir, `${name}.ext`)
  openssl(['req', ...EC_KEY, '-subj', subject, '-keyout', keyFile, '-out', csr])
  writeFileSync(extensionsFile, extensions)
  openssl(['x509', '-req', '-in', csr, '-CA', ca.file, '-CAkey', ca.key, '-CAcreateserial', '-days', '2',
    '-extfile', extensionsFile, '-out', certFile])
  return [certFile, keyFile]
}

export function makeCertificates(dir: string): TestCertificates {
  const ca = { file: join(dir, 'ca.pem'), key: join(dir, 'ca.key') }
  openssl(['req', '-x509', ...EC_KEY, '-days', '2', '-subj', '/CN=netlens test CA', '-keyout', ca.key, '-out', ca.file])
  const [certFile, keyFile] = issue(dir, 'server', '/CN=127.0.0.1', 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n', ca)
  const [clientCertFile, clientKeyFile] = issue(dir, 'client', '/CN=netlens test agent', 'extendedKeyUsage = clientAuth\n', ca)
  return { caFile: ca.file, certFile, keyFile, clientCertFile, clientKeyFile }
}
