// Constant load for end-to-end tests: N callers in closed loops against the
// gateway, each recording every answer, so a test can assert that nothing failed
// while the platform scaled, rolled out or replaced instances under it.
import { Agent, request } from 'undici'

export interface LoadOutcome {
  ok: number
  /** Every answer that was not a 200, or a connection error. */
  failures: Array<{ status: number, body: string }>
  /** Bodies of the 200s, counted. */
  bodies: Map<string, number>
}

export class Load {
  private readonly agent = new Agent({ connections: 256, pipelining: 0 })
  private readonly loops: Array<Promise<void>> = []
  private callers = 0
  private stopped = false
  readonly outcome: LoadOutcome = { ok: 0, failures: [], bodies: new Map() }

  constructor (private readonly url: string) {}

  /** Adds or removes callers until `n` run. */
  setCallers (n: number): void {
    while (this.callers < n) {
      const id = ++this.callers
      this.loops.push(this.loop(id))
    }
    this.callers = n
  }

  get total (): number {
    return this.outcome.ok + this.outcome.failures.length
  }

  /** Stops every caller after its request in flight and returns what was seen. */
  async stop (): Promise<LoadOutcome> {
    this.stopped = true
    await Promise.all(this.loops)
    await this.agent.close()
    return this.outcome
  }

  private async loop (id: number): Promise<void> {
    while (!this.stopped && id <= this.callers) {
      try {
        const response = await request(this.url, { dispatcher: this.agent })
        const body = await response.body.text()
        if (response.statusCode === 200) {
          this.outcome.ok++
          this.outcome.bodies.set(body, (this.outcome.bodies.get(body) ?? 0) + 1)
        } else {
          this.outcome.failures.push({ status: response.statusCode, body })
        }
      } catch (err) {
        this.outcome.failures.push({ status: 0, body: (err as Error).message })
      }
    }
  }
}
