// The Dockerfile without a Docker engine: its structure (stages, the repo's own build scripts, the runtime's three
// libraries, entrypoint, healthcheck), and its runtime file set laid out from this build into a directory where
// netlens then runs: `validate`, and `doctor` loading the copied addon and BPF objects.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { copiesOf, parseDockerfile, type Copy, type Stage } from './dockerfile.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BUILD_DIR = '/src/'

function workdirOf(stage: Stage): string {
  return stage.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args ?? '/'
}

/** Build-stage paths (`/src/...`) → files of this checkout after scripts/build.sh, globs expanded. */
function resolveFromBuild(source: string): string[] {
  assert.ok(source.startsWith(BUILD_DIR), `${source} is not under the build stage's ${BUILD_DIR}`)
  const relative = source.slice(BUILD_DIR.length).replace(/\/$/, '')
  if (relative.includes('*')) return globSync(relative, { cwd: ROOT }).map((p) => join(ROOT, p))
  return existsSync(join(ROOT, relative)) ? [join(ROOT, relative)] : []
}

/** The Debian package owning a library (merged /usr: dpkg may know it under /lib or /usr/lib). */
function packageOf(library: string): string {
  const candidates = [library, library.replace(/^\/usr\/lib\//, '/lib/'), library.replace(/^\/lib\//, '/usr/lib/')]
  for (const path of new Set(candidates)) {
    const result = spawnSync('dpkg', ['-S', path], { encoding: 'utf8' })
    if (result.status === 0) return result.stdout.split(':')[0]!
  }
  throw new Error(`no Debian package owns ${library}`)
}

describe('Dockerfile (structure, and the runtime file set after a build)', function () {
  this.timeout(60_000)
  const stages = parseDockerfile(join(ROOT, 'Dockerfile'))
  const [build, runtime] = stages as [Stage, Stage]
  const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args)

  it('has a Debian 12 build stage and a debian:12-slim runtime stage', () => {
    assert.equal(stages.length, 2)
    assert.deepEqual([build.image, build.name], ['debian:12', 'build'])
    assert.equal(runtime.image, 'debian:12-slim')
  })

  it('builds with the scripts a developer runs, not a copy of their steps', () => {
    assert.ok(runs(build).some((r) => r === 'bash scripts/setup.sh'), runs(build).join('\n'))
    for (const r of runs(build)) assert.doesNotMatch(r, /npm ci|node-gyp|make -C|clang /, `the build stage repeats a step of the scripts: ${r}`)
    // Every file the build stage copies from the context exists and is not excluded by .dockerignore.
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))
    for (const copy of copiesOf(build)) {
      for (const source of copy.sources) {
        assert.ok(existsSync(join(ROOT, source)), `${source} exists`)
        assert.ok(!ignored.includes(source.replace(/\/$/, '').split('/')[0]!), `${source} is not in .dockerignore`)
      }
    }
    assert.ok(existsSync(join(ROOT, 'scripts/setup.sh')) && existsSync(join(ROOT, 'scripts/build.sh')))
  })

  it('installs only libbpf1, libelf1 and zlib1g at run time, which with the base image cover what the addon links', () => {
    const install = runs(runtime).find((r) => r.includes('apt-get install'))!
    const packages = install.split('&&').find((p) => p.includes('apt-get install'))!.trim().split(/\s+/).filter((w) => !w.startsWith('-')).slice(2)
    assert.deepEqual(packages, ['libbpf1', 'libelf1', 'zlib1g'])
    // The libraries the built addon and Node load, by Debian package: the three above plus what debian:12-slim has.
    const inSlim = new Set(['libc6', 'libstdc++6', 'libgcc-s1'])
    for (const binary of [join(ROOT, 'native/build/Release/netlens_native.node'), process.execPath]) {
      const libraries = [...execFileSync('ldd', [binary], { encoding: 'utf8' }).matchAll(/=> (\/\S+)/g)].map((m) => m[1]!)
      for (const library of libraries) {
        const owner = packageOf(library)
        assert.ok(packages.includes(owner) || inSlim.has(owner), `${basename(binary)} needs ${library} from ${owner}`)
      }
    }
  })

  it('runs netlens as the entrypoint, with a healthcheck on the health endpoint', () => {
    const last = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).at(-1)?.args
    assert.equal(last('ENTRYPOINT'), '["netlens"]')
    assert.equal(last('CMD'), '["run"]')
    assert.match(last('HEALTHCHECK')!, /CMD \["node", "-e", ".*localhost:13133\//)
    assert.ok(runs(runtime).some((r) => r.includes('/opt/netlens/bin/netlens /usr/local/bin/netlens')))
  })

  it('copies a runtime file set that exists after a build and is enough to run netlens', () => {
    const copies: Copy[] = copiesOf(runtime)
    assert.ok(copies.every((c) => c.from === 'build'), 'the runtime copies only from the build stage')
    const root = mkdtempSync(join(tmpdir(), 'netlens-image-'))
    try {
      const workdir = workdirOf(runtime)
      for (const copy of copies) {
        const destination = copy.destination.startsWith('/') ? copy.destination : join(workdir, copy.destination)
        for (const source of copy.sources) {
          const files = resolveFromBuild(source)
          assert.ok(files.length > 0, `${source} exists after scripts/build.sh`)
          for (const file of files) {
            const into = destination.endsWith('/') && !statSync(file).isDirectory() ? join(destination, basename(file)) : destination
            const target = join(root, into).replace(/\/$/, '')
            mkdirSync(dirname(target), { recursive: true })
            // Big, unmodified trees are linked; what netlens resolves relative to its own files is copied.
            if (basename(file) === 'node_modules' || file === join(ROOT, '.tools/node_modules/node/bin/node')) symlinkSync(file, target)
            else cpSync(file, target, { recursive: true })
          }
        }
      }
      for (const object of ['netflow.bpf.o', 'port_filter.bpf.o']) assert.ok(existsSync(join(root, workdir, 'build/bpf', object)), object)
      const netlens = join(root, workdir, 'bin/netlens')
      const env = { ...process.env, PATH: `${join(root, 'usr/local/bin')}:/usr/bin:/bin` }
      const validate = spawnSync(netlens, ['validate'], { encoding: 'utf8', env })
      assert.equal(validate.status, 0, validate.stderr)
      assert.match(validate.stdout, new RegExp(`${join(root, workdir, 'config/default.yaml')} is valid`))
      const doctor = spawnSync(netlens, ['doctor'], { encoding: 'utf8', env })
      assert.match(doctor.stdout, /native addon\s+ok/)
      assert.match(doctor.stdout, /netflow tp_btf programs \(load\)\s+ok/)
      assert.match(doctor.stdout, /netflow classic programs \(load\)\s+ok/)
      assert.match(doctor.stdout, /socket filter \(port_filter\)\s+ok/)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
