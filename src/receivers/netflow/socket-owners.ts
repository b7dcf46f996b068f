// One harvest's view of the socket-owner map: owners found by socket identity, decoded only when a changed flow
// needs one (a harvest visits every flow entry, and most owners' flows have nothing new), with what the harvest
// learns about each owner (it has live flows, it was deleted) kept beside it in typed arrays.
import type { MapEntries } from '../../native/types.ts'
import { decodeOwner, OWNER_SIZE, readCounter, type Owner } from './layout.ts'

const KEY_SIZE = 8

export class SocketOwners {
  private readonly dump: MapEntries
  private readonly indexByIdentity = new Map<number, number>()
  private readonly decoded: Array<Owner | undefined>
  /** Small ids of the process names decoded in this harvest, the same for the same text; '' is 0. */
  private readonly commIds: Int32Array
  private readonly idByComm = new Map<string, number>([['', 0]])
  /** The process names by id. */
  readonly commNames: string[] = ['']
  private readonly withFlows: Uint8Array

  constructor(dump: MapEntries) {
    this.dump = dump
    for (let i = 0; i < dump.count; i++) this.indexByIdentity.set(readCounter(dump.keys, i * KEY_SIZE), i)
    this.decoded = new Array<Owner | undefined>(dump.count)
    this.commIds = new Int32Array(dump.count)
    this.withFlows = new Uint8Array(dump.count)
  }

  get count(): number {
    return this.dump.count
  }

  /** The owner of the socket known by `identity` (cookie or classic id), or -1: none, or deleted in this harvest. */
  indexOf(identity: number): number {
    return this.indexByIdentity.get(identity) ?? -1
  }

  owner(index: number): Owner {
    let owner = this.decoded[index]
    if (owner === undefined) {
      owner = decodeOwner(this.dump.values, index * OWNER_SIZE)
      this.decoded[index] = owner
      let id = this.idByComm.get(owner.comm)
      if (id === undefined) {
        id = this.commNames.length
        this.idByComm.set(owner.comm, id)
        this.commNames.push(owner.comm)
      }
      this.commIds[index] = id
    }
    return owner
  }

  /** The id of the owner's process name; owner(index) first. */
  commId(index: number): number {
    return this.commIds[index]!
  }

  identity(index: number): number {
    return readCounter(this.dump.keys, index * KEY_SIZE)
  }

  /** The owner's packed key, for deleting it from the map. */
  key(index: number): Buffer {
    return this.dump.keys.subarray(index * KEY_SIZE, index * KEY_SIZE + KEY_SIZE)
  }

  markWithFlows(index: number): void {
    this.withFlows[index] = 1
  }

  hasFlows(index: number): boolean {
    return this.withFlows[index] === 1
  }

  /** Deleted with its socket's last flow: later lookups in this harvest find no owner. */
  forget(index: number): void {
    this.indexByIdentity.delete(this.identity(index))
  }

  isForgotten(index: number): boolean {
    return this.indexByIdentity.get(this.identity(index)) !== index
  }
}
