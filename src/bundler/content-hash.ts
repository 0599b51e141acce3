import { createHash } from 'node:crypto'

// The content address of a bundle: versions, caches and instances name a
// bundle by this, so it must depend on the bytes only (strings hash as UTF-8).
export function contentHash (data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}
