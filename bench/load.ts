// The load generator: wrk where it is installed, else a small one in this
// process on undici's Pool. Their figures are not comparable with each other
// (wrk is C on threads of its own; the fallback shares this process and its
// latencies include its own event loop), so every report names the one used.
import { spawn, spawnSync } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { Pool } from 'undici'

export interface LoadGenerator {
  tool: 'wrk' | 'node'
  /** The wrk binary; null for the in-process generator. */
  path: string | null
  /** For reports: `wrk 4.1.0`, or what the fallback is. */
  description: string
}

export interface LoadOptions {
  url: string
  connections: number
  /** wrk threads (-t); the in-process generator has one thread whatever this says. */
  threads: number
  durationSec: number
  /**
   * Check every response's status is exactly 200 and its body is `expectBody`.
   * With wrk this runs a Lua `response` hook, which slows wrk down: use it on
   * warm-ups, not on measurements (those still count non-2xx answers).
   */
  check?: boolean
  expectBody?: string
  /**
   * Each request carries the next of these header sets, round-robin (wrk: a Lua
   * `request` hook, so give the same shape of sets to every target compared).
   * Names and values are printable ASCII.
   */
  headerSets?: ReadonlyArray<Readonly<Record<string, string>>>
  /** Called once the load is running, with wrk's pid (null for the in-process generator). */
  onStart?: (pid: number | null) => void
}

export interface LoadErrors {
  connect: number
  read: number
  write: number
  timeout: number
  /** wrk: responses with status ≥ 400 ("Non-2xx or 3xx"); checked runs and the fallback: status ≠ 200. */
  status: number
  /** Checked runs: a 200 whose body was not the expected one. */
  body: number
}

export interface LoadResult {
  tool: LoadGenerator['tool']
  requests: number
  seconds: number
  rps: number
  p50Ms: number
  p99Ms: number
  errors: LoadErrors
  /** Checked runs: responses seen to be exactly 200 with the expected body. */
  checkedOk: number | null
}

export function findExecutable (name: string, extraDirs: string[] = []): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extraDirs]) {
    if (dir === '') continue
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return null
}

/** wrk when installed (unless `prefer` is 'node'), else the in-process generator. */
export function chooseLoadGenerator (prefer?: 'wrk' | 'node'): LoadGenerator {
  const wrk = prefer === 'node' ? null : findExecutable('wrk', ['/usr/bin', '/usr/local/bin'])
  if (wrk !== null) {
    const out = spawnSync(wrk, ['-v'], { encoding: 'utf8' })
    const version = /wrk\s+(\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown version'
    return { tool: 'wrk', path: wrk, description: `wrk ${version}` }
  }
  if (prefer === 'wrk') throw new Error('--load wrk was given but wrk is not installed')
  return { tool: 'node', path: null, description: 'in-process load generator (undici Pool, process.hrtime; wrk not installed)' }
}

export function runLoad (generator: LoadGenerator, options: LoadOptions): Promise<LoadResult> {
  return generator.tool === 'wrk' ? runWrk(generator.path as string, options) : runInProcess(options)
}

export function describeErrors (errors: LoadErrors): string | null {
  const parts = Object.entries(errors).filter(([, count]) => count > 0).map(([kind, count]) => `${kind} ${count}`)
  return parts.length === 0 ? null : parts.join(', ')
}

// Counts, per wrk thread, the responses that are exactly 200 with the expected
// body, and prints the sums at the end for the parser below.
const CHECK_INIT = `
  expected = args[1]
  ok = 0
  bad_status = 0
  bad_body = 0
`
const CHECK_HOOKS = `
function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif expected ~= nil and body ~= expected then
    bad_body = bad_body + 1
  else
    ok = ok + 1
  end
end
function done(summary, latency, requests)
  local ok_sum, status_sum, body_sum = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok_sum = ok_sum + thread:get("ok")
    status_sum = status_sum + thread:get("bad_status")
    body_sum = body_sum + thread:get("bad_body")
  end
  io.write(string.format("ROOST_CHECK ok=%d status=%d body=%d\\n", ok_sum, status_sum, body_sum))
end
`
// Requests built once per thread in init (wrk.format adds Host as wrk's own
// request has it), then handed out round-robin: the hook does no formatting.
const HEADER_SETS_INIT = `
  for i, set in ipairs(header_sets) do
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    for name, value in pairs(set) do headers[name] = value end
    prepared[i] = wrk.format(nil, nil, headers)
  end
`
const HEADER_SETS_HOOK = `
function request()
  next_request = next_request % #prepared + 1
  return prepared[next_request]
end
`
const PRINTABLE = /^[\x20-\x7e]*$/

/** A Lua string literal of printable ASCII (the JSON escapes of `"` and `\\` are Lua's too). */
function luaString (value: string): string {
  if (!PRINTABLE.test(value)) throw new Error(`a wrk header name or value must be printable ASCII: ${JSON.stringify(value)}`)
  return JSON.stringify(value)
}

export function wrkScript (options: { check: boolean, headerSets?: LoadOptions['headerSets'] }): string {
  const sets = options.headerSets ?? []
  const lines = ['local threads = {}', 'function setup(thread)', '  table.insert(threads, thread)', 'end']
  if (sets.length > 0) {
    const table = sets.map((set) => `{ ${Object.entries(set).map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`).join(', ')} }`)
    lines.push(`header_sets = {\n  ${table.join(',\n  ')}\n}`, 'prepared = {}', 'next_request = 0')
  }
  lines.push('function init(args)')
  if (options.check) lines.push(CHECK_INIT.slice(1, -1))
  if (sets.length > 0) lines.push(HEADER_SETS_INIT.slice(1, -1))
  lines.push('end')
  if (sets.length > 0) lines.push(HEADER_SETS_HOOK.trim())
  if (options.check) lines.push(CHECK_HOOKS.trim())
  return `${lines.join('\n')}\n`
}

async function runWrk (wrk: string, options: LoadOptions): Promise<LoadResult> {
  const args = ['-t', String(options.threads), '-c', String(options.connections), '-d', `${options.durationSec}s`, '--latency']
  let scriptDir: string | null = null
  const check = options.check === true
  if (check || (options.headerSets?.length ?? 0) > 0) {
    scriptDir = mkdtempSync(join(tmpdir(), 'roost-bench-wrk-'))
    const script = join(scriptDir, 'load.lua')
    writeFileSync(script, wrkScript({ check, headerSets: options.headerSets }))
    args.push('-s', script)
  }
  args.push(options.url)
  if (options.check === true && options.expectBody !== undefined) args.push('--', options.expectBody)
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve, reject) => {
      const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
      child.once('error', reject)
      child.once('spawn', () => options.onStart?.(child.pid ?? null))
      child.once('close', (code) => resolve({ code, stdout, stderr }))
    })
    if (code !== 0) throw new Error(`wrk ${args.join(' ')} exited with ${code}: ${stderr.trim() || stdout.trim()}`)
    return parseWrk(stdout, options.check === true)
  } finally {
    if (scriptDir !== null) rmSync(scriptDir, { recursive: true, force: true })
  }
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

function parseTime (text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text)
  if (match === null) throw new Error(`wrk printed a latency of ${text}, which the bench cannot read`)
  return Number(match[1]) * TIME_UNITS[match[2]]
}

export function parseWrk (out: string, checked: boolean): LoadResult {
  const fail = (what: string): never => { throw new Error(`cannot find ${what} in wrk's output:\n${out}`) }
  const p50 = /^\s*50%\s+(\S+)/m.exec(out) ?? fail('the 50% latency')
  const p99 = /^\s*99%\s+(\S+)/m.exec(out) ?? fail('the 99% latency')
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)/m.exec(out) ?? fail('the request count')
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out) ?? fail('Requests/sec')
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const status = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  const errors: LoadErrors = {
    connect: Number(socket?.[1] ?? 0),
    read: Number(socket?.[2] ?? 0),
    write: Number(socket?.[3] ?? 0),
    timeout: Number(socket?.[4] ?? 0),
    status: Number(status?.[1] ?? 0),
    body: 0
  }
  let checkedOk: number | null = null
  if (checked) {
    const check = /ROOST_CHECK ok=(\d+) status=(\d+) body=(\d+)/.exec(out) ?? fail('the check script\'s counts')
    checkedOk = Number(check[1])
    errors.status = Math.max(errors.status, Number(check[2]))
    errors.body = Number(check[3])
  }
  return {
    tool: 'wrk',
    requests: Number(total[1]),
    seconds: parseTime(`${total[2]}${total[3]}`) / 1000,
    rps: Number(rps[1]),
    p50Ms: parseTime(p50[1]),
    p99Ms: parseTime(p99[1]),
    errors,
    checkedOk
  }
}

async function runInProcess (options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url)
  const path = `${url.pathname}${url.search}`
  const pool = new Pool(url.origin, { connections: options.connections, pipelining: 1 })
  const latencies: number[] = []
  const errors: LoadErrors = { connect: 0, read: 0, write: 0, timeout: 0, status: 0, body: 0 }
  let ok = 0
  const sets = options.headerSets ?? []
  let next = 0
  const started = process.hrtime.bigint()
  const end = started + BigInt(Math.round(options.durationSec * 1e9))
  options.onStart?.(null)
  const client = async (): Promise<void> => {
    while (process.hrtime.bigint() < end) {
      const sent = process.hrtime.bigint()
      try {
        const headers = sets.length === 0 ? undefined : sets[next++ % sets.length]
        const response = await pool.request({ path, method: 'GET', headers })
        const body = await response.body.text()
        latencies.push(Number(process.hrtime.bigint() - sent) / 1e6)
        if (response.statusCode !== 200) errors.status++
        else if (options.check === true && options.expectBody !== undefined && body !== options.expectBody) errors.body++
        else ok++
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT') errors.connect++
        else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') errors.timeout++
        else errors.read++
        // A dead target must not spin this loop for the rest of the run.
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
  }
  await Promise.all(Array.from({ length: options.connections }, client))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await pool.close()
  const sorted = Float64Array.from(latencies).sort()
  const percentile = (p: number): number => sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
  return {
    tool: 'node',
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    errors,
    checkedOk: options.check === true ? ok : null
  }
}
