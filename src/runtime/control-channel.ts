import { Socket } from 'node:net'
import { FrameDecoder, FrameType, FrameWriter, MAX_CONTROL_PAYLOAD_BYTES } from '../wire/index.js'
import type { ChildMessage, ParentMessage } from './protocol.js'

/** The parent sent something that is not a control message: the channel cannot be trusted. */
export class ControlChannelError extends Error {
  readonly code = 'ROOST_E_CONTROL_MALFORMED'
}

/**
 * The control channel to the instance manager: Control frames of JSON on an
 * inherited fd (3), never named, so nothing but the parent can reach it.
 */
export class ControlChannel {
  private readonly socket: Socket
  private readonly writer: FrameWriter
  private readonly decoder: FrameDecoder

  constructor (
    fd: number,
    onMessage: (message: ParentMessage) => void,
    onClose: () => void,
    onError: (err: Error) => void
  ) {
    this.socket = new Socket({ fd, readable: true, writable: true })
    this.writer = new FrameWriter(this.socket)
    this.decoder = new FrameDecoder((type, stream, payload) => {
      if (type !== FrameType.Control || stream !== 0) throw new ControlChannelError(`a frame of type ${type} on stream ${stream} is not a control message`)
      let message: unknown
      try {
        message = JSON.parse(payload.toString('utf8'))
      } catch {
        throw new ControlChannelError('a control frame is not JSON')
      }
      if (typeof message !== 'object' || message === null || typeof (message as { t?: unknown }).t !== 'string') throw new ControlChannelError('a control message has no type')
      onMessage(message as ParentMessage)
    }, MAX_CONTROL_PAYLOAD_BYTES)
    this.socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk)
      } catch (err) {
        onError(err instanceof Error ? err : new Error(String(err)))
      }
    })
    // The parent is gone (even by SIGKILL) when its end closes.
    this.socket.on('end', onClose)
    this.socket.on('close', onClose)
    this.socket.on('error', () => onClose())
  }

  /** Bytes written but not yet taken by the parent. */
  get backlog (): number {
    return this.writer.queuedBytes
  }

  send (message: ChildMessage): void {
    this.writer.text(FrameType.Control, 0, JSON.stringify(message))
  }

  /** Sends what is queued now and calls `callback` once the kernel has it (or soon regardless). */
  flush (callback: () => void): void {
    this.writer.flush()
    if (this.socket.writableLength === 0) {
      callback()
      return
    }
    const timer = setTimeout(callback, 1000)
    timer.unref()
    this.socket.once('drain', () => {
      clearTimeout(timer)
      callback()
    })
  }
}
