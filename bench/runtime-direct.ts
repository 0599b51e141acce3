// The runtime called directly over HTTP (src/runtime/serve.ts) against a plain
// node:http server answering the same hello world, in one run, alternated:
//
//   npx tsc -p tsconfig.json && node dist/bench/runtime-direct.js [--rounds 3] [--seconds 5] [--connections 32]
//
// Prints each round's req/s and CPU per request of each server, and the
// medians' ratios. The machine is shared: CPU per request is the steadier figure.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ticksOf } from './cpu.js'
import { chooseLoadGenerator, runLoad } from './load.js'
import { RUNTIME_SERVE_ENTRY } from '../src/runtime/index.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '32' } } })
const rounds = Number(values.rounds)
const seconds = Number(values.seconds)
const connections = Number(values.connections)
const TICK_US = 10_000

const dir = mkdtempSync(join(tmpdir(), 'roost-bench-runtime-'))
const bundle = join(dir, 'hello.mjs')
writeFileSync(bundle, "export default () => new Response('hello')\n")
const plain = join(dir, 'plain.mjs')
writeFileSync(plain, "import { createServer } from 'node:http'\ncreateServer((req, res) => { res.end('hello') }).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'))\n")

const children: ChildProcess[] = []
async function start (args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => { if (chunk.toString().includes('listening')) resolve() })
    child.once('exit', () => reject(new Error(`${args.join(' ')} exited`)))
  })
  child.stdout?.resume()
  return child
}

interface Sample { rps: number, cpuUsPerRequest: number }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]

try {
  const generator = chooseLoadGenerator()
  const servers = [
    { name: 'plain node:http', port: 18301, child: await start([plain, '18301']) },
    { name: 'roost runtime (serve.js)', port: 18302, child: await start([RUNTIME_SERVE_ENTRY, '--bundle', bundle, '--port', '18302']) }
  ]
  const samples = servers.map((): Sample[] => [])
  for (const server of servers) await runLoad(generator, { url: `http://127.0.0.1:${server.port}/`, connections, threads: 1, durationSec: 1 })
  for (let round = 1; round <= rounds; round++) {
    const line: string[] = []
    for (const [at, server] of servers.entries()) {
      const before = ticksOf(server.child.pid as number) ?? 0
      const result = await runLoad(generator, { url: `http://127.0.0.1:${server.port}/`, connections, threads: 1, durationSec: seconds })
      const ticks = (ticksOf(server.child.pid as number) ?? 0) - before
      const sample = { rps: result.rps, cpuUsPerRequest: ticks * TICK_US / Math.max(1, result.requests) }
      samples[at].push(sample)
      line.push(`${server.name} ${Math.round(sample.rps)} req/s ${sample.cpuUsPerRequest.toFixed(1)} µs CPU/req`)
    }
    console.log(`round ${round}: ${line.join(' | ')}`)
  }
  const rps = samples.map((s) => median(s.map((x) => x.rps)))
  const cpu = samples.map((s) => median(s.map((x) => x.cpuUsPerRequest)))
  console.log(`median: runtime / plain = ${(rps[1] / rps[0]).toFixed(2)}× req/s; plain CPU per request / runtime's = ${(cpu[0] / cpu[1]).toFixed(2)}× (${generator.description}, -c${connections}, ${seconds}s × ${rounds} rounds)`)
} finally {
  for (const child of children) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
