import type { Socket } from 'node:net'
import { FastRequest } from './fast-request.js'
import { FastResponse, type ResponseOwner } from './fast-response.js'
import { emptyHead, parseRequestHead } from './request-head.js'

/** What a fast connection asks of the gateway. */
export interface FastServer {
  /**
   * Serves a request the fast path read whole; false, with nothing done, when
   * the request is one for node's server (the gateway's own endpoints, a
   * request before the first routing table, a structured CloudEvent).
   */
  serveFast (req: FastRequest, res: FastResponse): boolean
  /** The connection, its unread bytes put back, goes to node's HTTP server for good. */
  handOver (socket: Socket): void
  /** The connection closed. */
  fastClosed (connection: FastConnection): void
}

/** Pipelined bytes held while a response is under way; past it the socket is not read until that response ends. */
const PIPELINE_BYTES = 128 * 1024

/** Bodies up to this size, all in the bytes read, are served by the fast path; larger ones stream through node's server. */
export const FAST_BODY_BYTES = 64 * 1024

/**
 * One caller's connection on the gateway's fast path: the request heads it
 * can read (request-head.ts) are served one at a time, in order, with
 * FastRequest and FastResponse instead of node's per-request objects. At the
 * first request it cannot serve whole (a head or body still arriving, a
 * chunked or large body, an Expect, an upgrade, HTTP/1.0, anything outside
 * the strict subset) the connection goes to node's HTTP server with that
 * request's bytes unread, and stays there. A response finishes before the next
 * request is read, so the two never interleave on the socket.
 */
export class FastConnection implements ResponseOwner {
  private buffer: Buffer | null = null
  private active: FastResponse | null = null
  private reading = false
  private handedOver = false
  private served = 0
  private readonly head = emptyHead()

  constructor (
    private readonly socket: Socket,
    private readonly server: FastServer,
    private readonly keepAliveMs: number,
    headersTimeoutMs: number
  ) {
    socket.setTimeout(headersTimeoutMs)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('timeout', this.onTimeout)
    socket.on('error', ignore)
    socket.on('close', this.onClose)
  }

  destroy (): void {
    this.socket.destroy()
  }

  responseEnded (res: FastResponse): void {
    if (res !== this.active) return
    this.active = null
    if (this.served++ === 0) this.socket.setTimeout(this.keepAliveMs)
    if (!res.shouldKeepAlive) {
      this.close()
      return
    }
    if (this.socket.isPaused()) this.socket.resume()
    if (!this.reading && this.buffer !== null) this.readRequests()
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.handedOver) return
    const buffer = this.buffer
    const joined = this.buffer = buffer === null ? chunk : Buffer.concat([buffer, chunk])
    if (this.active === null && !this.reading) this.readRequests()
    else if (joined.length > PIPELINE_BYTES) this.socket.pause()
  }

  /** Serves the requests read whole, in order, until one is under way or one is not the fast path's. */
  private readRequests (): void {
    this.reading = true
    try {
      while (this.buffer !== null && this.active === null && !this.handedOver && !this.socket.destroyed) this.readRequest(this.buffer)
    } finally {
      this.reading = false
    }
  }

  private readRequest (buffer: Buffer): void {
    const head = this.head
    const bodyAt = parseRequestHead(buffer, 0, head)
    if (bodyAt < 0) {
      // An incomplete head is left to node's parser too: it times slow heads out (408) and bounds large ones (431).
      this.handOver()
      return
    }
    const length = head.contentLength
    const end = length > 0 ? bodyAt + length : bodyAt
    if (length > FAST_BODY_BYTES || end > buffer.length) {
      this.handOver()
      return
    }
    const socket = this.socket
    const req = new FastRequest(socket, head.method, head.url, head.rawHeaders, length > 0 ? buffer.subarray(bodyAt, end) : null)
    const res = new FastResponse(this, socket, head.method === 'HEAD', head.keepAlive)
    this.active = res
    if (!this.server.serveFast(req, res)) {
      this.active = null
      this.handOver()
      return
    }
    // The request's bytes are its own now (the body is a view of them): what follows is the next request.
    this.buffer = end === buffer.length ? null : buffer.subarray(end)
  }

  private handOver (): void {
    this.handedOver = true
    const socket = this.socket
    socket.off('data', this.onData)
    socket.off('end', this.onEnd)
    socket.off('timeout', this.onTimeout)
    socket.off('close', this.onClose)
    socket.setTimeout(0)
    this.server.fastClosed(this)
    // Paused until node's server listens, so no byte is lost in between; the unread ones go first.
    socket.pause()
    if (this.buffer !== null) socket.unshift(this.buffer)
    this.buffer = null
    this.server.handOver(socket)
    socket.resume()
  }

  private close (): void {
    this.buffer = null
    this.socket.destroySoon()
  }

  private readonly onEnd = (): void => {
    // As node's server does (without httpAllowHalfOpen): a caller that half-closes has left; its request under way is abandoned.
    const active = this.active
    this.active = null
    active?.closed()
    this.close()
  }

  private readonly onTimeout = (): void => {
    // A request under way is bounded by its function's timeout, not the connection's.
    if (this.active === null) this.socket.destroy()
  }

  private readonly onClose = (): void => {
    this.buffer = null
    const active = this.active
    this.active = null
    active?.closed()
    this.server.fastClosed(this)
  }
}

// A caller that resets is no error of the gateway's; its close follows.
function ignore (): void {}
