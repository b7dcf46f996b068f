// The offsets layout.ts reads must be the ones clang laid out: compared with the BTF of both compiled objects.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { bpfObjectPath } from '../../../src/native/index.ts'
import { HOOK_SETS } from '../../../src/receivers/netflow/hooks.ts'
import { KEY_SIZE, OWNER_SIZE, Stats, STATS_SIZE } from '../../../src/receivers/netflow/layout.ts'

interface BtfStruct { size: number; members: Map<string, number> }

/** Struct sizes and member byte offsets from `bpftool btf dump ... format raw`. */
function btfStructs(path: string): Map<string, BtfStruct> {
  const structs = new Map<string, BtfStruct>()
  let current: BtfStruct | undefined
  for (const line of execFileSync('bpftool', ['btf', 'dump', 'file', path, 'format', 'raw'], { encoding: 'utf8' }).split('\n')) {
    const head = /^\[\d+\] STRUCT '(\w+)' size=(\d+)/.exec(line)
    if (head) {
      current = { size: Number(head[2]), members: new Map() }
      structs.set(head[1]!, current)
      continue
    }
    const member = /^\s+'(\w+)' type_id=\d+ bits_offset=(\d+)/.exec(line)
    if (member && current) current.members.set(member[1]!, Number(member[2]) / 8)
    else if (!line.startsWith('\t')) current = undefined
  }
  return structs
}

for (const { object } of Object.values(HOOK_SETS)) describe(`netflow layout (${object}.bpf.o)`, () => {
  const structs = btfStructs(bpfObjectPath(object))

  it('has the sizes of the kernel structs', () => {
    assert.equal(structs.get('netflow_key')?.size, KEY_SIZE)
    assert.equal(structs.get('netflow_stats')?.size, STATS_SIZE)
    assert.equal(structs.get('netflow_owner')?.size, OWNER_SIZE)
  })

  it('reads every stats field at its offset', () => {
    const members = structs.get('netflow_stats')!.members
    for (const [name, offset] of Object.entries(Stats)) assert.equal(members.get(name.toLowerCase()), offset, name)
  })

  it('reads the key and the owner where they are', () => {
    const key = structs.get('netflow_key')!.members
    assert.deepEqual([key.get('cookie'), key.get('remote_addr'), key.get('remote_port')], [0, 8, 24])
    const owner = structs.get('netflow_owner')!.members
    assert.deepEqual([owner.get('pid'), owner.get('netns'), owner.get('udp_bound'), owner.get('comm')], [0, 4, 8, 16])
  })
})
