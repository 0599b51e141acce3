// Not a suite: `node dist/bench/profile-gateway.js` starts a platform with the
// hello function, loads it with wrk for 10 s, and writes a CPU profile of the
// gateway thread (run with --cpu-prof --cpu-prof-dir=DIR) for study.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Platform } from '../src/platform/index.js'
import { resolveHome } from '../src/home/index.js'

const homeDir = mkdtempSync(join(tmpdir(), 'roost-prof-'))
// ROOST_FAST_PATH=0 profiles node's HTTP server instead of the gateway's fast path.
const platform = await Platform.start({ home: resolveHome({ ROOST_HOME: homeDir }), gatewayPort: 0, apiPort: 0, logLevel: 'warn', fastPath: process.env.ROOST_FAST_PATH !== '0' })
const { api, token, gateway } = platform.config
// With `rules` as the second argument the function gets the governance suite's rules (bench/governance.ts), none reached.
const governance = process.argv[3] === 'rules'
  ? { rules: [{ name: 'function', rateLimit: { limit: 1000000, window: '1s' }, breaker: { trigger: 'error-ratio', threshold: '50%', window: '10s', minRequests: 20 } }, { name: 'per-caller', rateLimit: { limit: 100000, window: '1s', key: 'header:x-tenant' } }] }
  : undefined
const manifest = { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'hello' }, spec: { source: { inline: "export default () => new Response('hello world')" }, scale: { min: 1, max: 1 }, concurrency: 1000, ...(governance === undefined ? {} : { governance }) } }
await fetch(`${api}/apis/roost.dev/v1/namespaces/default/functions/hello`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ manifest }) })
for (;;) {
  const r = await fetch(`${gateway}/fn/hello`)
  if (r.status === 200) { await r.text(); break }
  await r.text()
  await new Promise((resolve) => setTimeout(resolve, 100))
}
const seconds = process.argv[2] ?? '10'
const out = spawnSync('wrk', ['-t2', '-c32', `-d${seconds}s`, `${gateway}/fn/hello`], { encoding: 'utf8' })
console.log(out.stdout)
await platform.stop()
rmSync(homeDir, { recursive: true, force: true })
