/**
 * Where a response goes: a stream of a data connection (frames) or a
 * node:http response. The writer calls `whole` once, or `head`, `chunk`s and
 * `end`/`abort`; `problem` only while nothing was sent.
 */
export interface ResponseSink {
  /** The caller went away (Cancel, a closed connection): send nothing more. */
  readonly closed: boolean
  /** A complete response; the sink adds content-length. With `omitBody` (HEAD), the length a GET would have and no body. */
  whole (status: number, headers: string[], body: string | Uint8Array | null, omitBody: boolean): void
  head (status: number, headers: string[]): void
  /** False: wait for `ready()` before the next chunk. */
  chunk (data: Uint8Array): boolean
  /** The handler did not answer at once: from now on the sink must notice the caller going away. */
  pending (): void
  /** `callback` runs once if the sink closes (so a pending read of the handler's body can be cancelled). */
  onClose (callback: () => void): void
  /** Resolves when more can be written, or when the sink closed. */
  ready (): Promise<void>
  end (): void
  abort (reason: string): void
}
