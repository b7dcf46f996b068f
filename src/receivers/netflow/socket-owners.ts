// A harvest's view of the socket-owner map: owners found by socket identity, their fields read in place from the
// dump, what the harvest learns of each (it has live flows, it was deleted) beside them in typed arrays. A server
// can own 100k sockets: a Map built per harvest and an object decoded per owner cost ~50 ms, so the index is an
// open-addressing table over the dump's own key words, and process names are decoded once per distinct name.
import type { MapEntries } from '../../native/types.ts'
import { OWNER_SIZE, OwnerField } from './layout.ts'
import { hashWords, u64At, wordsOf } from './words.ts'

const KEY_WORDS = 2
const OWNER_WORDS = OWNER_SIZE / 4
/** A process name (TASK_COMM_LEN bytes) as words. */
const COMM_WORDS = 4
const MIN_CAPACITY = 1024
const EMPTY: MapEntries = { keys: Buffer.alloc(0), values: Buffer.alloc(0), count: 0 }

export class SocketOwners {
  private dump = EMPTY
  private keyWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0)
  private valueWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0)
  /** Owner + 1 by hash slot of its socket identity, 0 for an empty slot. */
  private slots = new Int32Array(MIN_CAPACITY)
  /** Per owner: its process name's id + 1 (0: not read yet), live flows, deleted. */
  private commIds = new Int32Array(0)
  private withFlows = new Uint8Array(0)
  private forgotten = new Uint8Array(0)
  private readonly names = new ProcessNames()

  /** A harvest begins with this dump of the owner map. */
  load(dump: MapEntries): void {
    this.dump = dump
    this.keyWords = wordsOf(dump.keys)
    this.valueWords = wordsOf(dump.values)
    if (this.commIds.length < dump.count) {
      const room = Math.max(dump.count, this.commIds.length * 2)
      this.commIds = new Int32Array(room)
      this.withFlows = new Uint8Array(room)
      this.forgotten = new Uint8Array(room)
    } else {
      this.commIds.fill(0, 0, dump.count)
      this.withFlows.fill(0, 0, dump.count)
      this.forgotten.fill(0, 0, dump.count)
    }
    this.names.startHarvest()
    this.index()
  }

  get count(): number {
    return this.dump.count
  }

  /** The process names by id, for this harvest. */
  get commNames(): readonly string[] {
    return this.names.texts
  }

  /** Changes when the process names start over: an id then names another process than it did before. */
  get namesGeneration(): number {
    return this.names.generation
  }

  /** The owner of the socket whose identity is the u64 at `words[at..at+2]`, or -1: none, or deleted. */
  indexOf(words: Uint32Array, at: number): number {
    const mask = this.slots.length - 1
    for (let slot = hashWords(words, at, KEY_WORDS) & mask; ; slot = (slot + 1) & mask) {
      const owner = this.slots[slot]! - 1
      if (owner < 0) return -1
      if (this.keyWords[owner * KEY_WORDS] === words[at] && this.keyWords[owner * KEY_WORDS + 1] === words[at + 1]) {
        return this.forgotten[owner] ? -1 : owner
      }
    }
  }

  pid(owner: number): number {
    return this.valueWords[owner * OWNER_WORDS + OwnerField.PID / 4]!
  }

  netns(owner: number): number {
    return this.valueWords[owner * OWNER_WORDS + OwnerField.NETNS / 4]!
  }

  udpBound(owner: number): boolean {
    return this.dump.values[owner * OWNER_SIZE + OwnerField.UDP_BOUND] !== 0
  }

  /** The id of the owner's process name (commNames), the same for the same name. */
  commId(owner: number): number {
    let id = this.commIds[owner]! - 1
    if (id < 0) {
      id = this.names.idOf(this.dump.values, owner * OWNER_SIZE + OwnerField.COMM)
      this.commIds[owner] = id + 1
    }
    return id
  }

  identity(owner: number): number {
    return u64At(this.keyWords, owner * KEY_WORDS)
  }

  /** The owner's packed key, for deleting it from the map. */
  key(owner: number): Buffer {
    return this.dump.keys.subarray(owner * 8, owner * 8 + 8)
  }

  markWithFlows(owner: number): void {
    this.withFlows[owner] = 1
  }

  hasFlows(owner: number): boolean {
    return this.withFlows[owner] === 1
  }

  /** Deleted with its socket's last flow: later lookups in this harvest find no owner. */
  forget(owner: number): void {
    this.forgotten[owner] = 1
  }

  isForgotten(owner: number): boolean {
    return this.forgotten[owner] === 1
  }

  private index(): void {
    let capacity = MIN_CAPACITY
    while (capacity < this.dump.count * 2) capacity *= 2
    if (this.slots.length !== capacity) this.slots = new Int32Array(capacity)
    else this.slots.fill(0)
    const mask = capacity - 1
    for (let owner = 0; owner < this.dump.count; owner++) {
      let slot = hashWords(this.keyWords, owner * KEY_WORDS, KEY_WORDS) & mask
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask
      this.slots[slot] = owner + 1
    }
  }
}

/**
 * Process names (comm, 16 bytes, NUL-padded) by small ids, decoded once per distinct name: '' is 0. The ids hold
 * until, past `limit` names, the table starts over at the next harvest (`generation`).
 */
class ProcessNames {
  readonly texts: string[] = ['']
  /** How many times the table started over. */
  generation = 0
  /** COMM_WORDS words per id. */
  private words = new Uint32Array(MIN_CAPACITY * COMM_WORDS)
  /** The name being looked up, bytes after its end zeroed (the kernel's padding is not guaranteed to be zeros). */
  private readonly name = new Uint32Array(COMM_WORDS)
  private readonly nameBytes = new Uint8Array(this.name.buffer)
  /** Id + 1 by hash slot, 0 for an empty slot. */
  private slots = new Int32Array(MIN_CAPACITY * 2)
  private readonly limit: number

  constructor(limit = 4096) {
    this.limit = limit
  }

  startHarvest(): void {
    if (this.texts.length > this.limit) {
      this.texts.length = 1
      this.slots.fill(0)
      this.generation++
    }
  }

  /** The id of the name in the 16 bytes at `bytes[offset..]`, up to the first NUL. */
  idOf(bytes: Buffer, offset: number): number {
    const name = this.nameBytes
    let length = 0
    while (length < name.length && bytes[offset + length] !== 0) length++
    if (length === 0) return 0
    name.fill(0)
    for (let i = 0; i < length; i++) name[i] = bytes[offset + i]!
    const mask = this.slots.length - 1
    let slot = hashWords(this.name, 0, COMM_WORDS) & mask
    for (; this.slots[slot] !== 0; slot = (slot + 1) & mask) {
      const id = this.slots[slot]! - 1
      if (this.isName(id)) return id
    }
    const id = this.texts.length
    this.texts.push(bytes.toString('utf8', offset, offset + length))
    if ((id + 1) * COMM_WORDS > this.words.length) this.grow()
    this.words.set(this.name, id * COMM_WORDS)
    this.place(id)
    return id
  }

  private isName(id: number): boolean {
    for (let i = 0; i < COMM_WORDS; i++) if (this.words[id * COMM_WORDS + i] !== this.name[i]) return false
    return true
  }

  private place(id: number): void {
    if (this.texts.length * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2)
      for (let other = 1; other < id; other++) this.place(other)
    }
    const mask = this.slots.length - 1
    let slot = hashWords(this.words, id * COMM_WORDS, COMM_WORDS) & mask
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask
    this.slots[slot] = id + 1
  }

  private grow(): void {
    const words = new Uint32Array(this.words.length * 2)
    words.set(this.words)
    this.words = words
  }
}
