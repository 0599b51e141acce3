// amqplib writes each frame of its channels to the socket on its own: its
// multiplexer reads one frame from a channel's buffer and writes it, in a
// loop, so a turn that acknowledges a hundred messages makes a hundred
// syscalls. Corking the socket for the length of that loop turns them into one
// writev with the same bytes in the same order. This reaches into amqplib's
// connection (its `muxer` and `stream`, both there since 0.5): when they are
// not what is expected, nothing is changed and the frames go one by one.

interface Multiplexer {
  _readIncoming (): void
}

interface Corkable {
  cork (): void
  uncork (): void
}

const CORKED = Symbol('roost.corkedWrites')

/** Makes the connection's multiplexer write each loop of frames as one write; a no-op if amqplib's internals differ. */
export function corkFrameWrites (connection: unknown): boolean {
  const { muxer, stream } = (connection ?? {}) as { muxer?: Multiplexer & { [CORKED]?: true }, stream?: Partial<Corkable> }
  if (muxer === undefined || typeof muxer._readIncoming !== 'function' || stream === undefined) return false
  if (typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') return false
  if (muxer[CORKED] === true) return true
  const readIncoming = muxer._readIncoming.bind(muxer)
  const socket = stream as Corkable
  muxer._readIncoming = () => {
    socket.cork()
    try {
      readIncoming()
    } finally {
      socket.uncork()
    }
  }
  muxer[CORKED] = true
  return true
}
