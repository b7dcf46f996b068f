// The flow test peer (test/peers/flow_peer.py) run inside test hosts, with /usr/bin/python3 so its comm is `python3`.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { TestHost } from './netns.ts'

const PEER = fileURLToPath(new URL('../peers/flow_peer.py', import.meta.url))

export function runPeer(host: TestHost, args: Array<string | number>): ChildProcess {
  const child = host.spawn('/usr/bin/python3', [PEER, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (text: string) => process.stderr.write(`peer ${args[0]}: ${text}`))
  return child
}

/**
 * Resolves when the peer prints `word` (servers print "ready", the pinger "paused"). Listens with 'data' rather
 * than for-await, which would destroy the stream on return and break the peer's later writes.
 */
export function printed(child: ChildProcess, word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const onData = (chunk: string) => {
      seen += chunk
      if (!seen.includes(word)) return
      child.stdout!.off('data', onData).resume()
      child.off('exit', onExit)
      resolve()
    }
    const onExit = () => reject(new Error(`peer exited before printing "${word}"`))
    child.stdout!.on('data', onData)
    child.once('exit', onExit)
  })
}

export async function exited(child: ChildProcess): Promise<void> {
  const code = child.exitCode ?? (await once(child, 'exit'))[0]
  assert.equal(code, 0, 'peer failed')
}
