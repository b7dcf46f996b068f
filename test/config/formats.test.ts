import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import convict from 'convict'
import { parseByteSize, parseDuration, parseEndpoint } from '../../src/config/formats.ts'
import { substituteEnv, type SubstitutionProblem } from '../../src/config/env.ts'

describe('config formats', () => {
  it('parses durations to milliseconds', () => {
    assert.equal(parseDuration('10s'), 10_000)
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('1m'), 60_000)
    assert.equal(parseDuration('1h'), 3_600_000)
    assert.equal(parseDuration('1.5s'), 1500)
    for (const bad of ['', '10', 's', '-1s', '10 parsecs', '1d']) assert.equal(parseDuration(bad), undefined, bad)
  })

  it('parses endpoints, IPv6 in brackets', () => {
    assert.deepEqual(parseEndpoint('localhost:4317'), { host: 'localhost', port: 4317 })
    assert.deepEqual(parseEndpoint('[::1]:13133'), { host: '::1', port: 13133 })
    assert.deepEqual(parseEndpoint(':0'), { host: '', port: 0 })
    for (const bad of ['localhost', '::1:4317', 'host:70000', 'http://host:1', 'a b:1']) assert.equal(parseEndpoint(bad), undefined, bad)
  })

  it('parses byte sizes', () => {
    assert.equal(parseByteSize('32MiB'), 32 * 1024 * 1024)
    assert.equal(parseByteSize('4096'), 4096)
    assert.equal(parseByteSize('1kb'), 1000)
    assert.equal(parseByteSize('lots'), undefined)
  })

  it('coerces and validates through convict', () => {
    const schema = {
      every: { doc: 'd', format: 'duration', default: '10s' },
      to: { doc: 'e', format: 'endpoint', default: 'localhost:4317' },
      ports: { doc: 'p', format: 'port-list', default: [53] },
      slots: { doc: 's', format: 'power-of-two', default: 1024 },
      buffer: { doc: 'b', format: 'byte-size', default: '1MiB' },
    }
    const good = convict(schema).load({ every: '250ms', ports: [53, 5353] })
    good.validate({ allowed: 'strict' })
    assert.deepEqual(good.getProperties(), { every: 250, to: 'localhost:4317', ports: [53, 5353], slots: 1024, buffer: 1024 * 1024 })
    const bad = convict(schema).load({ every: 'often', to: 'nowhere', ports: [0], slots: 1000, buffer: 'big' })
    assert.throws(() => bad.validate({ allowed: 'strict' }), (error: Error) => {
      for (const key of ['every', 'to', 'ports', 'slots', 'buffer']) assert.match(error.message, new RegExp(`^${key}: must be`, 'm'))
      return true
    })
  })
})

describe('environment substitution', () => {
  const run = (value: unknown, env: Record<string, string>) => {
    const problems: SubstitutionProblem[] = []
    return { value: substituteEnv(value, env, problems), problems }
  }

  it('expands references inside strings, with defaults, and $$', () => {
    const { value, problems } = run({ a: 'http://${env:HOST}:${env:PORT:-80}/', b: ['$$HOME', 'x'] }, { HOST: 'h' })
    assert.deepEqual(value, { a: 'http://h:80/', b: ['$HOME', 'x'] })
    assert.deepEqual(problems, [])
  })

  it('types a whole-value reference as YAML would', () => {
    assert.deepEqual(run({ n: '${env:N}', t: '${env:T}', s: '${env:S}' }, { N: '42', T: 'true', S: 'hello' }).value, { n: 42, t: true, s: 'hello' })
  })

  it('reads ${file:PATH} without its trailing newline, and names a file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlens-file-ref-'))
    try {
      writeFileSync(join(dir, 'token'), 'Bearer s3cret\n')
      const { value, problems } = run({ headers: { authorization: `\${file:${join(dir, 'token')}}` } }, {})
      assert.deepEqual([value, problems], [{ headers: { authorization: 'Bearer s3cret' } }, []])
      const missing = run({ a: `\${file:${join(dir, 'nope')}}` }, {})
      assert.deepEqual(missing.problems, [{ path: ['a'], message: `cannot read ${join(dir, 'nope')} for \${file:...}: ENOENT` }])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('uses the default for an empty variable only when one is given', () => {
    assert.deepEqual(run({ a: '${env:E:-d}', b: 'x${env:E}y' }, { E: '' }).value, { a: 'd', b: 'xy' })
  })

  it('reports unset variables and unsupported references with their path', () => {
    const { problems } = run({ a: { b: '${env:MISSING}' }, c: '${HOME}' }, {})
    assert.deepEqual(problems, [
      { path: ['a', 'b'], message: 'environment variable MISSING is not set (use ${env:MISSING:-default} for a default)' },
      { path: ['c'], message: 'unsupported reference "${HOME}" (expected ${env:NAME}, ${env:NAME:-default} or ${file:PATH}; write $$ for a literal $)' },
    ])
  })
})
