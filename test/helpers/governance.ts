// Helpers for the end-to-end tests of governance at the gateway (issue 11):
// bursts of requests with their answers and times, the gateway's series, and
// a function's events as the CLI prints them.
import { request as httpRequest } from 'node:http'
import { parseExposition, find, type Sample } from '../metrics/parse-exposition.js'
import { cliJson } from './e2e.js'
import type { TestPlatform } from './platform.js'

export interface Answer {
  status: number
  body: string
  headers: Headers
  /** Date.now() when the answer was read in full. */
  doneAt: number
}

/** One gateway request, read in full. */
export async function answer (platform: TestPlatform, path: string, init?: RequestInit): Promise<Answer> {
  const response = await platform.fetch(path, init)
  const body = await response.text()
  return { status: response.status, body, headers: response.headers, doneAt: Date.now() }
}

/** `n` requests sent at once; the answers in the order sent, and when the first was sent. */
export async function burst (platform: TestPlatform, path: string, n: number, init?: RequestInit): Promise<{ startedAt: number, answers: Answer[] }> {
  const startedAt = Date.now()
  const answers = await Promise.all(Array.from({ length: n }, async () => await answer(platform, path, init)))
  return { startedAt, answers }
}

/** How many answers had this status. */
export function countOf (answers: Answer[], status: number): number {
  return answers.filter((a) => a.status === status).length
}

/** A GET from a given loopback address (127.0.0.0/8 is all loopback on Linux), for limits keyed by client IP. */
export function getFrom (localAddress: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The gateway's series (GET /metrics), parsed. */
export async function gatewayMetrics (platform: TestPlatform): Promise<Sample[]> {
  const response = await platform.fetch('/metrics')
  return parseExposition(await response.text())
}

/** The value of one series of the gateway, 0 when it has no such sample yet. */
export async function metric (platform: TestPlatform, name: string, labels: Record<string, string>): Promise<number> {
  const samples = find(await gatewayMetrics(platform), name, labels)
  if (samples.length > 1) throw new Error(`${samples.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return samples[0]?.value ?? 0
}

export interface EventItem {
  name: string
  type: string
  reason: string
  message: string
}

/** A function's events as `roost get events NAME -n NS -o json` prints them. */
export async function eventsOf (platform: TestPlatform, name: string, namespace = 'default'): Promise<EventItem[]> {
  return await cliJson<EventItem[]>(platform, ['get', 'events', name, '-n', namespace])
}
