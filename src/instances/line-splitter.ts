import type { Clock } from './clock.js'

export const MAX_OUTPUT_LINE_BYTES = 16 * 1024
export const PARTIAL_LINE_FLUSH_MS = 1000

export type LineHandler = (text: string, truncated: boolean) => void

/**
 * Cuts a byte stream (an instance's stdout or stderr) into lines with bounded
 * memory: at most `maxLineBytes` are held, a longer line is handed over cut
 * (the rest up to its newline is skipped), and a partial line waits at most
 * `flushAfterMs` for its newline. Not readline: it buffers without bound.
 */
export class LineSplitter {
  private readonly pending: Buffer
  private fill = 0
  /** Inside a line already handed over cut: bytes are skipped up to its newline. */
  private skipping = false
  private timer: unknown = null

  constructor (
    private readonly onLine: LineHandler,
    private readonly clock: Clock,
    private readonly maxLineBytes = MAX_OUTPUT_LINE_BYTES,
    private readonly flushAfterMs = PARTIAL_LINE_FLUSH_MS
  ) {
    this.pending = Buffer.allocUnsafe(maxLineBytes)
  }

  push (chunk: Buffer): void {
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start)
      const end = newline === -1 ? chunk.length : newline
      this.take(chunk, start, end)
      if (newline === -1) break
      if (this.skipping) this.skipping = false
      else this.emit(false)
      start = newline + 1
    }
    this.schedule()
  }

  /** The stream ended: what is held leaves as a last line. */
  end (): void {
    this.cancelTimer()
    if (this.fill > 0) this.emit(false)
    this.skipping = false
  }

  private take (chunk: Buffer, start: number, end: number): void {
    if (this.skipping) return
    const room = this.maxLineBytes - this.fill
    const length = end - start
    if (length <= room) {
      chunk.copy(this.pending, this.fill, start, end)
      this.fill += length
      return
    }
    chunk.copy(this.pending, this.fill, start, start + room)
    this.fill += room
    this.emit(true)
    this.skipping = true
  }

  private emit (truncated: boolean): void {
    let end = this.fill
    if (!truncated && end > 0 && this.pending[end - 1] === 0x0d) end--
    const text = this.pending.toString('utf8', 0, end)
    this.fill = 0
    this.cancelTimer()
    this.onLine(text, truncated)
  }

  private schedule (): void {
    if (this.fill === 0) {
      this.cancelTimer()
      return
    }
    if (this.timer !== null) return
    this.timer = this.clock.setTimeout(() => {
      this.timer = null
      if (this.fill > 0) this.emit(false)
    }, this.flushAfterMs)
  }

  private cancelTimer (): void {
    if (this.timer === null) return
    this.clock.clearTimeout(this.timer)
    this.timer = null
  }
}
