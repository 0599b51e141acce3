// The events suite's client, run as its own process so that its CPU is not
// the control plane's (the platform runs in the bench process, on its main
// thread). One job per run, given as JSON on the command line:
//   node dist/bench/events-publisher.js '{"mode":"batches",...}'
// - batches: `count` messages to a queue in publishes of `batch`, `concurrency`
//   publishes in flight; every answer must be 201 with `created` for each.
// - single: `count` sequential publishes of one message, each timed.
// - get: `count` sequential GETs of `path`, each timed (the HTTP floor).
// It prints `started <epoch ms>` before its first measured request and, at
// the end, one JSON line: { startedAt, endedAt, cpuMs, latenciesMs }, cpuMs
// being its own CPU time (user + system) from `started` to the end.
import { Pool } from 'undici'

interface Job {
  mode: 'batches' | 'single' | 'get'
  /** The API's origin, e.g. http://127.0.0.1:7070 */
  origin: string
  token: string
  /** `/apis/roost.dev/v1/namespaces/default/queues/bench/messages`, or the GET's path. */
  path: string
  count: number
  batch?: number
  concurrency?: number
  /** Untimed requests before the measured ones (single and get). */
  warmup?: number
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const pool = new Pool(job.origin, { connections: Math.max(1, job.concurrency ?? 1), pipelining: 1 })
const headers = { authorization: `Bearer ${job.token}`, 'content-type': 'application/json' }

class PublishRefused extends Error {}

async function post (body: string, expected: number): Promise<void> {
  const response = await pool.request({ origin: job.origin, path: job.path, method: 'POST', headers, body })
  const text = await response.body.text()
  if (response.statusCode !== 201) throw new PublishRefused(`POST ${job.path} answered ${response.statusCode}: ${text.slice(0, 500)}`)
  const { results } = JSON.parse(text) as { results: Array<{ outcome: string }> }
  if (results.length !== expected || results.some((r) => r.outcome !== 'created')) throw new PublishRefused(`POST ${job.path}: not ${expected} created: ${text.slice(0, 500)}`)
}

async function get (): Promise<void> {
  const response = await pool.request({ origin: job.origin, path: job.path, method: 'GET', headers: { authorization: headers.authorization } })
  const text = await response.body.text()
  if (response.statusCode !== 200) throw new PublishRefused(`GET ${job.path} answered ${response.statusCode}: ${text.slice(0, 500)}`)
}

function batchBody (from: number, size: number): string {
  const messages = []
  for (let i = 0; i < size; i++) messages.push({ body: { n: from + i } })
  return JSON.stringify({ messages })
}

interface Measured { startedAt: number, cpu: NodeJS.CpuUsage, latenciesMs: number[] }

function start (): { startedAt: number, cpu: NodeJS.CpuUsage } {
  const startedAt = Date.now()
  process.stdout.write(`started ${startedAt}\n`)
  return { startedAt, cpu: process.cpuUsage() }
}

async function batches (): Promise<Measured> {
  const size = job.batch ?? 100
  const bodies: string[] = []
  for (let from = 0; from < job.count; from += size) bodies.push(batchBody(from, Math.min(size, job.count - from)))
  let next = 0
  const started = start()
  await Promise.all(Array.from({ length: Math.max(1, job.concurrency ?? 1) }, async () => {
    while (next < bodies.length) {
      const i = next++
      await post(bodies[i] as string, Math.min(size, job.count - i * size))
    }
  }))
  return { ...started, latenciesMs: [] }
}

async function sequential (one: (i: number) => Promise<void>): Promise<Measured> {
  for (let i = 0; i < (job.warmup ?? 0); i++) await one(-1 - i)
  const latenciesMs: number[] = []
  const started = start()
  for (let i = 0; i < job.count; i++) {
    const t0 = performance.now()
    await one(i)
    latenciesMs.push(performance.now() - t0)
  }
  return { ...started, latenciesMs }
}

async function main (): Promise<void> {
  const result = job.mode === 'batches'
    ? await batches()
    : job.mode === 'single'
      ? await sequential(async (i) => await post(JSON.stringify({ messages: [{ body: { n: i } }] }), 1))
      : await sequential(async () => await get())
  const endedAt = Date.now()
  const cpu = process.cpuUsage(result.cpu)
  process.stdout.write(`${JSON.stringify({ startedAt: result.startedAt, endedAt, cpuMs: (cpu.user + cpu.system) / 1000, latenciesMs: result.latenciesMs })}\n`)
  await pool.close()
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
