// The platform's REST API and gateway metrics as a bench suite uses them:
// deploy a Function manifest, wait for its one ready instance, make API keys,
// read a function's compiled governance and the gateway's Prometheus series.
import type { FunctionPolicy } from '../src/governance/index.js'
import type { Platform } from '../src/platform/index.js'
import { BenchFailure } from './suite.js'

const V1 = '/apis/roost.dev/v1'

export interface InstanceItem {
  id: string
  function: string
  state: string
  pid: number | null
}

export interface FunctionManifest {
  apiVersion: 'roost.dev/v1'
  kind: 'Function'
  metadata: { name: string, namespace?: string, labels?: Record<string, string> }
  spec: Record<string, unknown>
}

async function api (platform: Platform, path: string, init: { method?: string, body?: unknown } = {}): Promise<{ status: number, text: string }> {
  const { api, token } = platform.config
  const response = await fetch(`${api}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body)
  })
  return { status: response.status, text: await response.text() }
}

/** Creates or updates a function in namespace default. */
export async function applyFunction (platform: Platform, manifest: FunctionManifest): Promise<void> {
  const { name } = manifest.metadata
  const { status, text } = await api(platform, `${V1}/namespaces/default/functions/${name}`, { method: 'PUT', body: { manifest } })
  if (status !== 201 && status !== 200) throw new BenchFailure(`deploying ${name} answered ${status}: ${text}`)
}

export async function readyInstances (platform: Platform, name: string): Promise<InstanceItem[]> {
  const { status, text } = await api(platform, `${V1}/instances`)
  if (status !== 200) throw new BenchFailure(`GET /instances answered ${status}: ${text}`)
  const { items } = JSON.parse(text) as { items: InstanceItem[] }
  return items.filter((item) => item.function === name && item.state === 'ready')
}

/** The pid of the function's first ready instance, once there is one. */
export async function waitForInstance (platform: Platform, name: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = (await readyInstances(platform, name))[0]
    if (found !== undefined && found.pid !== null) return found.pid
    if (Date.now() > deadline) throw new BenchFailure(`no ready instance of ${name} within ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A new API key of a function (`roost key create`): the key itself, shown once. */
export async function createApiKey (platform: Platform, fn: string): Promise<string> {
  const { status, text } = await api(platform, `${V1}/namespaces/default/functions/${fn}/keys`, { method: 'POST', body: {} })
  if (status !== 201) throw new BenchFailure(`creating a key of ${fn} answered ${status}: ${text}`)
  return (JSON.parse(text) as { key: string }).key
}

export interface CompiledGovernance {
  /** The policy as the gateway gets it. */
  policy: FunctionPolicy
  problems: unknown[]
}

/** What the function's rules compiled to (`GET …/functions/NAME/governance`). */
export async function compiledGovernance (platform: Platform, fn: string): Promise<CompiledGovernance> {
  const { status, text } = await api(platform, `${V1}/namespaces/default/functions/${fn}/governance`)
  if (status !== 200) throw new BenchFailure(`GET the governance of ${fn} answered ${status}: ${text}`)
  return JSON.parse(text) as CompiledGovernance
}

/** The gateway's /metrics (with the control plane's series). */
export async function scrapeMetrics (platform: Platform): Promise<string> {
  const response = await fetch(`${platform.config.gateway}/metrics`)
  const text = await response.text()
  if (response.status !== 200) throw new BenchFailure(`GET /metrics answered ${response.status}: ${text.slice(0, 200)}`)
  return text
}

/** The sum of a family's samples whose labels include every one given (`{ function: 'hello' }`). */
export function metricSum (exposition: string, family: string, labels: Record<string, string>): number {
  let sum = 0
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${family}{`)) continue
    const close = line.lastIndexOf('}')
    const labelText = line.slice(family.length + 1, close)
    if (Object.entries(labels).every(([name, value]) => labelText.includes(`${name}="${value}"`))) sum += Number(line.slice(close + 1).trim())
  }
  return sum
}
