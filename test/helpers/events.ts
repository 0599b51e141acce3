// Helpers of the end-to-end tests of queues and cron: a loopback server the
// functions report what they handled to (the test's own witness, not a part
// of Roost), and the queue routes of the API.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import assert from 'node:assert/strict'
import type { TestPlatform } from './platform.js'

/** What a function POSTed to the witness: one JSON object per handled event. */
export interface Report {
  [key: string]: unknown
}

/** An HTTP server on 127.0.0.1 that keeps every JSON body POSTed to it. */
export class Witness {
  readonly reports: Report[] = []

  private constructor (private readonly server: Server, readonly url: string) {}

  static async start (): Promise<Witness> {
    let witness: Witness | undefined
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        try {
          witness?.reports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Report)
        } catch {}
        res.end('ok')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    witness = new Witness(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    return witness
  }

  /** How many reports have `field` equal to each value. */
  countBy (field: string): Map<unknown, number> {
    const counts = new Map<unknown, number>()
    for (const report of this.reports) counts.set(report[field], (counts.get(report[field]) ?? 0) + 1)
    return counts
  }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

export interface QueueItem {
  namespace: string
  name: string
  consumer: string | null
  depth: number
  leased: number
  backlog: number
  dead: number
  lastCompletedAt: number | null
}

const V1 = '/apis/roost.dev/v1'

/** Publishes through the API; the answer must be 201. */
export async function publish (platform: TestPlatform, queue: string, messages: unknown[], namespace = 'default'): Promise<Array<{ id: string, outcome: string }>> {
  const response = await platform.api(`${V1}/namespaces/${namespace}/queues/${queue}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages })
  })
  const text = await response.text()
  assert.equal(response.status, 201, `publish to ${queue}: HTTP ${response.status}: ${text}`)
  return (JSON.parse(text) as { results: Array<{ id: string, outcome: string }> }).results
}

export async function queueOf (platform: TestPlatform, queue: string, namespace = 'default'): Promise<QueueItem> {
  const response = await platform.api(`${V1}/namespaces/${namespace}/queues`)
  assert.equal(response.status, 200)
  const item = (await response.json() as { items: QueueItem[] }).items.find((q) => q.name === queue)
  assert.ok(item !== undefined, `queue ${queue} is listed`)
  return item
}

export interface Attempt { delivery: number, counted: boolean, outcome: string, error: string | null }
export interface DeadItem { id: string, body: unknown, attempts: number, maxAttempts: number, reason: string | null, history: Attempt[] }

export async function deadOf (platform: TestPlatform, queue: string, namespace = 'default'): Promise<DeadItem[]> {
  const response = await platform.api(`${V1}/namespaces/${namespace}/queues/${queue}/dead`)
  assert.equal(response.status, 200)
  return (await response.json() as { items: DeadItem[] }).items
}

export interface EventItem { reason: string, message: string, type: string }

export async function functionEvents (platform: TestPlatform, name: string, namespace = 'default'): Promise<EventItem[]> {
  const response = await platform.api(`${V1}/namespaces/${namespace}/functions/${name}/events?limit=500`)
  return (await response.json() as { items: EventItem[] }).items
}
