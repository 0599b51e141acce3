import type { Duplex } from 'node:stream'
import { FrameDecoder, FrameType, FrameWriter, MAX_CONTROL_PAYLOAD_BYTES, WireError } from '../wire/index.js'
import { excerpt, parseChildMessage, type ChildMessage, type ParentMessage } from './control-messages.js'

/**
 * The parent's end of an instance's control channel (fd 3 of the child):
 * frames are bounded by the decoder, each payload is validated, and anything
 * wrong is reported once through `onViolation`; after that nothing more of
 * the channel is read. Never throws into the platform.
 */
export class ControlChannel {
  private readonly decoder: FrameDecoder
  private readonly writer: FrameWriter
  private broken = false

  constructor (
    private readonly socket: Duplex,
    private readonly onMessage: (message: ChildMessage) => void,
    private readonly onViolation: (what: string) => void
  ) {
    this.decoder = new FrameDecoder(this.onFrame, MAX_CONTROL_PAYLOAD_BYTES)
    this.writer = new FrameWriter(socket as unknown as ConstructorParameters<typeof FrameWriter>[0])
    socket.on('data', this.onData)
    // A write to a child that died fails with EPIPE: its exit is what tells.
    socket.on('error', () => {})
  }

  send (message: ParentMessage): void {
    if (!this.broken && !this.socket.destroyed) this.writer.text(FrameType.Control, 0, JSON.stringify(message))
  }

  close (): void {
    this.broken = true
    this.writer.close()
    this.socket.off('data', this.onData)
    this.socket.destroy()
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.broken) return
    try {
      this.decoder.push(chunk)
    } catch (err) {
      if (err instanceof WireError) this.violation(`${err.message} on its control channel; the bytes: ${excerpt(chunk)}`)
      else this.violation(`a control frame could not be handled: ${String(err)}`)
    }
  }

  private readonly onFrame = (type: number, stream: number, payload: Buffer): void => {
    if (this.broken) return
    if (type !== FrameType.Control || stream !== 0) {
      this.violation(`a frame of type ${type} on stream ${stream} on its control channel (only control frames on stream 0 belong there)`)
      return
    }
    const checked = parseChildMessage(payload)
    if (!checked.ok) {
      this.violation(`${checked.problem}: ${excerpt(payload)}`)
      return
    }
    this.onMessage(checked.message)
  }

  private violation (what: string): void {
    if (this.broken) return
    this.broken = true
    this.socket.off('data', this.onData)
    this.onViolation(what)
  }
}
