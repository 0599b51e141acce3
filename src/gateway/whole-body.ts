import type { IncomingMessage } from 'node:http'

export type WholeBody =
  | { ok: true, body: Buffer }
  /** too-large: more than the limit arrived (the rest is left to the caller's lingering close). */
  | { ok: false, reason: 'too-large' | 'timeout' | 'aborted' }

/**
 * Reads a request body whole, up to `limit` bytes and `timeoutMs`, for the
 * gateway's own endpoints and the CloudEvents conversion (requests the gateway
 * must see whole before it can act; proxied bodies stream instead).
 */
export function readWholeBody (req: IncomingMessage, limit: number, timeoutMs: number): Promise<WholeBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (result: WholeBody): void => {
      clearTimeout(timer)
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('close', onClose)
      resolve(result)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) finish({ ok: false, reason: 'too-large' })
      else chunks.push(chunk)
    }
    const onEnd = (): void => finish({ ok: true, body: chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size) })
    const onClose = (): void => finish({ ok: false, reason: 'aborted' })
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), timeoutMs)
    timer.unref()
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('close', onClose)
    req.on('error', ignore)
  })
}

// A caller that resets mid-body surfaces as 'close'; the error itself says nothing more.
function ignore (): void {}
