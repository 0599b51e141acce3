// A broker connection is opened once and shared by every caller of
// connect(); one that failed is tried again by the next caller, never cached.
export class FirstConnect<T> {
  private pending: Promise<T> | undefined

  constructor (private readonly open: () => Promise<T>) {}

  /** The connect under way or made, starting one when there is none. */
  get (): Promise<T> {
    this.pending ??= this.open().catch((err: unknown) => {
      this.pending = undefined
      throw err
    })
    return this.pending
  }

  /** The connect under way or made, if any, without starting one. */
  get current (): Promise<T> | undefined {
    return this.pending
  }
}
