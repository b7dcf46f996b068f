// Counters a BPF program keeps in a per-CPU array (one u64 per index and CPU), read as totals by name.
import type { BpfMap } from './types.ts'

/** Each name's counter (its index in `names`) summed over CPUs; 0 where the map has no entry. */
export function readCounters<N extends string>(map: BpfMap, names: readonly N[]): Record<N, number> {
  const counters = {} as Record<N, number>
  const key = Buffer.alloc(4)
  names.forEach((name, index) => {
    key.writeUInt32LE(index)
    const values = map.lookup(key)
    let total = 0
    for (let cpu = 0; values && cpu < map.possibleCpus; cpu++) total += Number(values.readBigUInt64LE(cpu * map.valueSize))
    counters[name] = total
  })
  return counters
}
