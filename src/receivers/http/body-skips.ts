// Tells the capture filter which payload the parser will only count: when a direction's parser is inside a body
// (or a chunk) with at least `minBytes` still to come, the sequence range of those bytes goes to the filter
// (PayloadSkips), which then hands over the segments inside it without their payload (the frame's original length
// still says how much there was, and the parser skips that many bytes as a gap). Only segments wholly inside the
// range are cut, so the next message or chunk-size line is always captured. A range is set once per long body and
// deleted once the direction has passed it (a map update each: worth it for long bodies only), or with its
// connection. It takes effect from the segments the kernel sees after the parser read the headers (~a capture
// block timeout later), so it saves the copies of long transfers, not of short ones.
import type { SkipDirection } from '../../capture/port-filter.ts'
import { seqDiff } from '../../net/packet.ts'
import type { TupleEntry } from './connection-table.ts'
import type { MessageParser } from './message-parser.ts'
import type { TcpOrder } from './tcp-order.ts'

export interface PayloadSkipper {
  set(direction: SkipDirection, from: number, until: number): void
  delete(direction: SkipDirection): void
}

/** Per connection: the end of the range set for each direction (-1: none). */
export interface SkipState {
  skipToServerUntil: number
  skipToClientUntil: number
}


export class BodySkips {
  private readonly skipper: PayloadSkipper
  private readonly minBytes: number

  constructor(skipper: PayloadSkipper, minBytes: number) {
    this.skipper = skipper
    this.minBytes = minBytes
  }

  /** After bytes of one direction were handed to its parser: set, extend or delete the direction's range. */
  update(connection: TupleEntry & SkipState, fromClient: boolean, order: TcpOrder, parser: MessageParser): void {
    const until = fromClient ? connection.skipToServerUntil : connection.skipToClientUntil
    const next = order.nextSeq
    if (until >= 0 && seqDiff(next, until) >= 0) {
      this.skipper.delete(directionOf(connection, fromClient))
      this.remember(connection, fromClient, -1)
    }
    const remaining = parser.bodyRemaining
    if (remaining < this.minBytes || next < 0) return
    const end = (next + remaining) >>> 0
    const current = fromClient ? connection.skipToServerUntil : connection.skipToClientUntil
    if (current >= 0 && seqDiff(end, current) <= 0) return
    this.skipper.set(directionOf(connection, fromClient), next, end)
    this.remember(connection, fromClient, end)
  }

  /** The connection is forgotten: so are its ranges. */
  forget(connection: TupleEntry & SkipState): void {
    if (connection.skipToServerUntil >= 0) this.skipper.delete(directionOf(connection, true))
    if (connection.skipToClientUntil >= 0) this.skipper.delete(directionOf(connection, false))
    connection.skipToServerUntil = connection.skipToClientUntil = -1
  }

  private remember(connection: SkipState, fromClient: boolean, until: number): void {
    if (fromClient) connection.skipToServerUntil = until
    else connection.skipToClientUntil = until
  }
}

function directionOf(c: TupleEntry, fromClient: boolean): SkipDirection {
  const client = [c.client0, c.client1, c.client2, c.client3] as const
  const server = [c.server0, c.server1, c.server2, c.server3] as const
  return fromClient
    ? { family: c.family, source: client, sourcePort: c.clientPort, destination: server, destinationPort: c.serverPort }
    : { family: c.family, source: server, sourcePort: c.serverPort, destination: client, destinationPort: c.clientPort }
}
