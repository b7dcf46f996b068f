// deploy/: every YAML file parses; the DaemonSets hold capabilities instead of privileged, the host mounts netlens
// needs, resource requests and probes on :13133; the netlens config inside the ConfigMap passes `netlens validate`;
// the Alloy config wires 4317 to the Prometheus and OTLP exporters, and the sidecar embeds it unchanged.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { globSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { NETLENS } from '../lifecycle/agent-process.ts'
import { parseAlloy } from './alloy-syntax.ts'

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url))

/* Kubernetes objects as parsed YAML. */
type Manifest = Record<string, any>

function documents(file: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'))
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`)
  for (const doc of docs) assert.deepEqual(doc.errors, [], `${file}: ${doc.errors.map((e) => e.message).join('; ')}`)
  return docs.map((doc) => doc.toJS() as Manifest)
}

function find(file: string, kind: string): Manifest {
  const found = documents(file).find((d) => d.kind === kind)
  assert.ok(found, `${file} has a ${kind}`)
  return found
}

const ALLOY = readFileSync(join(DEPLOY, 'alloy/config.alloy'), 'utf8')

describe('deploy/ (Kubernetes, Alloy, docker compose)', function () {
  this.timeout(30_000)

  it('every YAML file parses', () => {
    const files = globSync('**/*.yaml', { cwd: DEPLOY })
    assert.ok(files.length >= 5, files.join(', '))
    for (const file of files) assert.ok(documents(file).length > 0, file)
  })

  for (const file of ['kubernetes/daemonset.yaml', 'kubernetes/daemonset-alloy-sidecar.yaml']) {
    it(`${file}: host namespaces, capabilities not privileged, host mounts, requests, probes on 13133`, () => {
      const spec = find(file, 'DaemonSet').spec.template.spec
      assert.equal(spec.hostNetwork, true)
      assert.equal(spec.hostPID, true)
      const netlens = spec.containers.find((c: Manifest) => c.name === 'netlens')
      assert.equal(netlens.securityContext.privileged, false)
      assert.deepEqual(netlens.securityContext.capabilities, { drop: ['ALL'], add: ['BPF', 'PERFMON', 'NET_ADMIN', 'NET_RAW'] })
      assert.ok(netlens.resources.requests.cpu && netlens.resources.requests.memory)
      // V8's heap is capped well under the memory limit: the capture rings and queues live outside it.
      const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(netlens.env.find((e: Manifest) => e.name === 'NODE_OPTIONS')?.value ?? '')?.[1])
      const limitMiB = Number(/^(\d+)Mi$/.exec(netlens.resources.limits.memory)?.[1])
      assert.ok(heapMiB > 0 && heapMiB <= 0.7 * limitMiB, `heap ${heapMiB} MB under a ${limitMiB} MiB limit`)
      assert.equal(netlens.livenessProbe.tcpSocket.port, 13133)
      assert.deepEqual(netlens.readinessProbe.httpGet, { path: '/', port: 13133 })
      const hostPaths = new Map<string, string>(spec.volumes.filter((v: Manifest) => v.hostPath).map((v: Manifest) => [v.name, v.hostPath.path]))
      const mounted = netlens.volumeMounts.map((m: Manifest) => hostPaths.get(m.name)).filter(Boolean).sort()
      assert.deepEqual(mounted, ['/sys/fs/bpf', '/sys/fs/cgroup', '/sys/kernel/btf', '/sys/kernel/tracing'])
      // The host's cgroup root is where the ConfigMap's cgroup_path points.
      const cgroupMount = netlens.volumeMounts.find((m: Manifest) => hostPaths.get(m.name) === '/sys/fs/cgroup')
      assert.match(find('kubernetes/configmap.yaml', 'ConfigMap').data['netlens.yaml'], new RegExp(`cgroup_path: .*${cgroupMount.mountPath}`))
      const config = spec.volumes.find((v: Manifest) => v.name === 'config')
      assert.equal(config.configMap.name, find('kubernetes/configmap.yaml', 'ConfigMap').metadata.name)
    })
  }

  it('the sidecar variant runs Alloy beside netlens, with deploy/alloy/config.alloy embedded unchanged', () => {
    const spec = find('kubernetes/daemonset-alloy-sidecar.yaml', 'DaemonSet').spec.template.spec
    const netlens = spec.containers.find((c: Manifest) => c.name === 'netlens')
    const alloy = spec.containers.find((c: Manifest) => c.name === 'alloy')
    assert.ok(alloy, 'an alloy container')
    assert.deepEqual(netlens.env.map((e: Manifest) => e.name), ['NETLENS_OTLP_ENDPOINT', 'NODE_OPTIONS'])
    assert.equal(netlens.env[0].value, '127.0.0.1:4317')
    assert.equal(alloy.args.at(-1), '/etc/alloy/config.alloy')
    const configMap = find('kubernetes/daemonset-alloy-sidecar.yaml', 'ConfigMap')
    assert.equal(configMap.data['config.alloy'], ALLOY)
    assert.equal(spec.volumes.find((v: Manifest) => v.name === 'alloy-config').configMap.name, configMap.metadata.name)
  })

  it('the ConfigMap holds a netlens configuration that `netlens validate` accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlens-deploy-'))
    try {
      const file = join(dir, 'netlens.yaml')
      writeFileSync(file, find('kubernetes/configmap.yaml', 'ConfigMap').data['netlens.yaml'])
      const result = spawnSync(NETLENS, ['validate', '--config', file], { encoding: 'utf8', env: { ...process.env, NETLENS_OTLP_ENDPOINT: '' } })
      assert.equal(result.status, 0, result.stderr)
      assert.match(result.stdout, /2 pipelines: netflow \(netflow → otlp\); dnsflow \(dns → otlp\)/)
      assert.match(result.stdout, /health check on 0\.0\.0\.0:13133/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('config.alloy parses with Alloy\'s own parser; a broken copy does not', () => {
    const blocks = parseAlloy(join(DEPLOY, 'alloy/config.alloy'))
    assert.ok(blocks.length >= 5)
    const dir = mkdtempSync(join(tmpdir(), 'netlens-alloy-'))
    try {
      writeFileSync(join(dir, 'broken.alloy'), ALLOY.replace('endpoint = "127.0.0.1:4317"', 'endpoint = "127.0.0.1:4317'))
      assert.throws(() => parseAlloy(join(dir, 'broken.alloy')), /alloy syntax: .*broken\.alloy/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('config.alloy: OTLP in on 4317, out through the Prometheus and OTLP exporters, every reference defined', () => {
    const blocks = parseAlloy(join(DEPLOY, 'alloy/config.alloy'))
    const defined = new Set(blocks.map((b) => `${b.name}.${b.label}`))
    assert.deepEqual([...defined].sort(), [
      'otelcol.exporter.otlp.backend', 'otelcol.exporter.prometheus.netlens', 'otelcol.processor.batch.netlens',
      'otelcol.receiver.otlp.netlens', 'prometheus.remote_write.backend',
    ])
    const receiver = blocks.find((b) => b.name === 'otelcol.receiver.otlp')!
    assert.deepEqual(receiver.blocks.map((b) => b.name), ['grpc', 'output'])
    assert.match(ALLOY, /grpc {\s+\/\/[^\n]*\n\s+endpoint = "127\.0\.0\.1:4317"/)
    const references = [...ALLOY.matchAll(/((?:otelcol|prometheus)\.[a-z_.]+)\.(input|receiver)\b/g)].map((m) => m[1]!)
    assert.ok(references.length >= 4)
    for (const reference of references) assert.ok(defined.has(reference), `${reference} is defined`)
  })

  it('docker-compose.yaml runs netlens with capabilities and Alloy with deploy/alloy/config.alloy, both on the host network', () => {
    const compose = documents('docker-compose.yaml')[0]!
    const { netlens, alloy } = compose.services
    assert.equal(netlens.network_mode, 'host')
    assert.equal(netlens.pid, 'host')
    assert.equal(netlens.cgroup, 'host')
    assert.deepEqual(netlens.cap_drop, ['ALL'])
    assert.deepEqual(netlens.cap_add, ['BPF', 'PERFMON', 'NET_ADMIN', 'NET_RAW'])
    assert.equal(netlens.privileged, undefined)
    assert.equal(netlens.build.dockerfile, 'Dockerfile')
    assert.equal(alloy.network_mode, 'host')
    assert.ok(alloy.volumes.includes('./alloy/config.alloy:/etc/alloy/config.alloy:ro'))
    assert.equal(alloy.command.at(-1), '/etc/alloy/config.alloy')
  })
})
