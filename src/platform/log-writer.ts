import type { InstanceLogLine } from '../instances/index.js'
import type { LogLine, Store } from '../store/index.js'

const FLUSH_INTERVAL_MS = 100
const PRUNE_INTERVAL_MS = 60_000
const MAX_PENDING_LINES = 50_000

/**
 * Instance output reaches the store in batches: one transaction per flush
 * instead of one per line. Subscribers (`roost logs -f`) see lines after they
 * are stored, with their ids.
 */
export class LogWriter {
  private pending: LogLine[] = []
  private dropped = 0
  private readonly listeners = new Set<(lines: LogLine[]) => void>()
  private readonly flushTimer: NodeJS.Timeout
  private readonly pruneTimer: NodeJS.Timeout

  constructor (private readonly store: Store, private readonly maxLinesPerFunction: number) {
    this.flushTimer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS)
    this.flushTimer.unref()
    this.pruneTimer = setInterval(() => this.store.pruneLogs(this.maxLinesPerFunction), PRUNE_INTERVAL_MS)
    this.pruneTimer.unref()
  }

  write (lines: InstanceLogLine[]): void {
    for (const line of lines) {
      if (this.pending.length >= MAX_PENDING_LINES) {
        this.dropped++
        continue
      }
      this.pending.push(line)
    }
  }

  subscribe (listener: (lines: LogLine[]) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  flush (): void {
    if (this.pending.length === 0) return
    const lines = this.pending
    this.pending = []
    const lastId = this.store.appendLogs(lines)
    // appendLogs assigns consecutive ids in order; hand them to followers.
    let id = lastId - lines.length + 1
    for (const line of lines) line.id = id++
    for (const listener of this.listeners) {
      try { listener(lines) } catch {}
    }
  }

  close (): void {
    clearInterval(this.flushTimer)
    clearInterval(this.pruneTimer)
    this.flush()
  }
}
