// What /proc says about a process, for tests and benches that watch the agent from outside: CPU time, resident
// memory and open file descriptors.
import { readdirSync, readFileSync } from 'node:fs'

/** utime + stime, in seconds (clock ticks of 1/100 s). `self` for this process. */
export function cpuSeconds(pid: number | 'self'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Resident memory, MiB. */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}
