// Reads the PEM files named by an exporter's `tls` keys; a file that cannot be read is an error naming its key.
import { readFile } from 'node:fs/promises'
import type { TlsFiles } from './push-config.ts'

export interface TlsMaterial {
  ca: Buffer | null
  cert: Buffer | null
  key: Buffer | null
}

async function readPem(path: string, key: string): Promise<Buffer | null> {
  if (!path) return null
  try {
    return await readFile(path)
  } catch (error) {
    throw new Error(`tls.${key}: cannot read ${path}: ${(error as Error).message}`)
  }
}

export async function readTlsFiles(tls: TlsFiles): Promise<TlsMaterial> {
  const [ca, cert, key] = await Promise.all([
    readPem(tls.ca_file, 'ca_file'),
    readPem(tls.cert_file, 'cert_file'),
    readPem(tls.key_file, 'key_file'),
  ])
  return { ca, cert, key }
}
