// Elastic scaling end to end: a real platform, real instance processes, the
// autoscaler driven by real gateway load. Windows and delays are set short in
// the manifests so that each behaviour shows within seconds.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { cliJson, instancesOf, ok, text, type InstanceItem } from '../helpers/e2e.js'
import { Load } from '../helpers/load.js'

// ?ms=N answers after N ms; the body names the version so a test sees where requests went.
const handler = (tag: string): string => `
let open = 0
let most = 0
export default async (req: Request): Promise<Response> => {
  const url = new URL(req.url)
  if (url.pathname === '/block') {
    setTimeout(() => { while (true) {} }, 20)
    return new Response('blocking soon')
  }
  open++
  most = Math.max(most, open)
  const ms = Number(url.searchParams.get('ms') ?? '0')
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
  open--
  if (url.pathname === '/most') return new Response(String(most))
  return new Response('${tag}')
}
`

// Takes a second to load: a cold start that the activator must hold requests through.
const SLOW_START = `
await new Promise((resolve) => setTimeout(resolve, 1500))
export default async (): Promise<Response> => new Response('slow')
`

interface InstanceJson extends InstanceItem { inFlight: number, pooled: boolean }
interface EventItem { reason: string, message: string, type: string }

let platform: TestPlatform
let dir: string

async function apply (name: string, spec: string, code: string): Promise<void> {
  writeFileSync(join(dir, `${name}.ts`), code)
  writeFileSync(join(dir, `${name}.yaml`), manifest(name, `source: ./${name}.ts\n${spec}`))
  ok(await platform.cli(['apply', '-f', join(dir, `${name}.yaml`)]), `apply ${name}`)
}

async function ready (name: string): Promise<InstanceItem[]> {
  return (await instancesOf(platform, name)).filter((i) => i.state === 'ready')
}

async function events (name: string): Promise<EventItem[]> {
  const response = await platform.api(`/apis/roost.dev/v1/namespaces/default/functions/${name}/events?limit=200`)
  return (await response.json() as { items: EventItem[] }).items
}

before(async () => {
  platform = await TestPlatform.start({ args: ['--queue-limit', '3'] })
  dir = writeProject({})
})

after(async () => {
  await platform?.stop()
})

describe('scale to zero and the activator', () => {
  test('a request at zero is served, and an idle function goes back to zero after scaleDownDelay', async () => {
    await apply('zero', 'scale: { min: 0, scaleDownDelay: 1s, window: 6s }', handler('zero'))
    // A new version starts once, even at min 0, so that its status can tell it starts; idle, it goes back to zero.
    await waitFor(async () => (await events('zero')).some((e) => e.reason === 'ScaledUp' && e.message.includes('a new version starts once to show it can')), 15_000, () => 'the new version did not start once')
    await waitFor(async () => (await instancesOf(platform, 'zero')).length === 0, 15_000, () => 'the new version did not go back to zero')
    assert.equal(await text(platform, '/fn/zero'), 'zero')
    assert.equal((await ready('zero')).length, 1)
    await waitFor(async () => (await instancesOf(platform, 'zero')).length === 0, 15_000, () => 'zero did not scale to zero')
    const reasons = (await events('zero')).map((e) => `${e.reason}: ${e.message}`)
    assert.ok(reasons.some((r) => r.startsWith('ScaledUp: v1: 0 → 1 instances (a request arrived with no instance running')), reasons.join('\n'))
    assert.ok(reasons.some((r) => r.startsWith('ScaledDown: v1: 1 → 0 instances (no request for the scale-down delay')), reasons.join('\n'))
    // And back: the next request is served from zero again.
    assert.equal(await text(platform, '/fn/zero'), 'zero')
  })

  test('when the activator queue is full, callers get 503 with Retry-After at once, and held requests are served', async () => {
    await apply('slowstart', 'scale: { min: 0, max: 1 }', SLOW_START)
    const order: string[] = []
    const calls = Array.from({ length: 6 }, async () => {
      const response = await platform.fetch('/fn/slowstart')
      const body = await response.text()
      order.push(`${response.status}`)
      return { status: response.status, body, retryAfter: response.headers.get('retry-after') }
    })
    const results = await Promise.all(calls)
    const served = results.filter((r) => r.status === 200)
    const refused = results.filter((r) => r.status === 503)
    assert.equal(served.length, 3, JSON.stringify(results))
    assert.equal(refused.length, 3, JSON.stringify(results))
    for (const r of served) assert.equal(r.body, 'slow')
    for (const r of refused) {
      assert.equal(r.retryAfter, '1')
      assert.match(r.body, /ROOST_E_OVERLOADED/)
    }
    // The refusals did not wait for the instance: they came back before any held request.
    assert.deepEqual(order.slice(0, 3), ['503', '503', '503'])
  })
})

describe('following load', () => {
  test('step load grows the instances with no failed request; lower load shrinks them to min, again with none', async () => {
    await apply('step', 'concurrency: 50\nscale: { min: 1, max: 5, target: 2, utilization: 1, window: 6s, scaleDownDelay: 2s }', handler('step'))
    await waitFor(async () => (await ready('step')).length === 1, 15_000, () => 'step did not start its min instance')
    const load = new Load(`${platform.config.gateway}/fn/step?ms=100`)
    load.setCallers(10)
    await waitFor(async () => (await ready('step')).length >= 4, 30_000, () => 'step did not grow to 4 instances under 10 concurrent callers')
    // Light load: the scale-down happens under traffic.
    load.setCallers(1)
    await waitFor(async () => (await instancesOf(platform, 'step')).length === 1, 40_000, () => 'step did not shrink back to min')
    const outcome = await load.stop()
    assert.deepEqual(outcome.failures.slice(0, 5), [], `${outcome.failures.length} of ${load.total} requests failed`)
    assert.ok(outcome.ok > 100)
    const reasons = (await events('step')).map((e) => `${e.reason}: ${e.message}`)
    assert.ok(reasons.some((r) => /^ScaledUp: v1: \d → \d instances \(.*concurrency [\d.]+ over 6s/.test(r)), reasons.join('\n'))
    assert.ok(reasons.some((r) => r.startsWith('ScaledDown:') && r.includes('demand stayed lower for the scale-down delay')), reasons.join('\n'))
  })

  test('per-instance concurrency is a hard limit: excess waits in the gateway, never on the instance', async () => {
    await apply('single', 'concurrency: 1\nscale: { min: 1, max: 1 }', handler('single'))
    await waitFor(async () => (await ready('single')).length === 1, 15_000, () => 'single did not start')
    // One in flight and three waiting: the platform's queue limit is 3.
    const results = await Promise.all(Array.from({ length: 4 }, () => platform.fetch('/fn/single?ms=30').then((r) => r.status)))
    assert.deepEqual(results, Array(4).fill(200))
    assert.equal(await text(platform, '/fn/single/most'), '1')
  })
})

describe('instances and what is shown of them', () => {
  test('get instances -o json lists function, version, state and in-flight; describe shows desired and ready', async () => {
    await apply('held', 'scale: { min: 1, max: 1 }', handler('held'))
    await waitFor(async () => (await ready('held')).length === 1, 15_000, () => 'held did not start')
    const pending = [platform.fetch('/fn/held?ms=3000'), platform.fetch('/fn/held?ms=3000')]
    let seen: InstanceJson[] = []
    await waitFor(async () => {
      seen = (await cliJson<InstanceJson[]>(platform, ['get', 'instances'])).filter((i) => i.function === 'held')
      return seen.length === 1 && seen[0].inFlight === 2
    }, 5_000, () => JSON.stringify(seen))
    assert.equal(seen[0].state, 'ready')
    assert.equal(seen[0].version, 1)
    assert.equal(typeof seen[0].pooled, 'boolean')
    await Promise.all(pending.map(async (p) => (await p).text()))
    const described = ok(await platform.cli(['describe', 'function', 'held']))
    assert.match(described, /Instances: +1 desired, 1 ready, 0 starting, 0 draining/)
    assert.match(described, /Scaling:\n +VERSION +DESIRED +READY/)
  })

  test('a killed instance is replaced and its traffic goes to the others', async () => {
    await apply('pair', 'scale: { min: 2, max: 2 }', handler('pair'))
    await waitFor(async () => (await ready('pair')).length === 2, 15_000, () => 'pair did not start 2 instances')
    const [victim] = await ready('pair')
    process.kill(victim.pid as number, 'SIGKILL')
    // Requests in flight on a killed instance fail with it (502); once the
    // platform has seen the exit, traffic goes to the other instance only.
    await waitFor(async () => (await instancesOf(platform, 'pair')).every((i) => i.id !== victim.id), 10_000, () => 'the kill was not noticed')
    const statuses = await Promise.all(Array.from({ length: 20 }, () => platform.fetch('/fn/pair').then((r) => r.status)))
    assert.deepEqual(statuses, Array(20).fill(200))
    await waitFor(async () => {
      const now = await ready('pair')
      return now.length === 2 && now.every((i) => i.id !== victim.id)
    }, 15_000, () => 'the killed instance was not replaced')
  })

  test('an instance that stops answering its liveness probe is taken out and replaced', async () => {
    await apply('stuck', 'scale: { min: 1, max: 1 }', handler('stuck'))
    await waitFor(async () => (await ready('stuck')).length === 1, 15_000, () => 'stuck did not start')
    const [first] = await ready('stuck')
    assert.equal(await text(platform, '/fn/stuck/block'), 'blocking soon')
    await waitFor(async () => {
      const now = await ready('stuck')
      return now.length === 1 && now[0].id !== first.id
    }, 30_000, () => 'the blocked instance was not replaced')
    assert.equal(await text(platform, '/fn/stuck'), 'stuck')
    const reasons = (await events('stuck')).map((e) => e.reason)
    assert.ok(reasons.includes('Unhealthy'), reasons.join(', '))
  })
})

describe('changes under load', () => {
  test('a rollout and a rollback under constant load fail no request', async () => {
    await apply('roll', 'scale: { min: 1, max: 3 }', handler('v1'))
    await waitFor(async () => (await ready('roll')).length >= 1, 15_000, () => 'roll did not start')
    const load = new Load(`${platform.config.gateway}/fn/roll?ms=5`)
    load.setCallers(8)
    await apply('roll', 'scale: { min: 1, max: 3 }', handler('v2'))
    await waitFor(() => (load.outcome.bodies.get('v2') ?? 0) > 50, 20_000, () => 'no request reached v2')
    ok(await platform.cli(['rollback', 'roll']), 'rollback')
    const v1Before = load.outcome.bodies.get('v1') ?? 0
    await waitFor(() => (load.outcome.bodies.get('v1') ?? 0) > v1Before + 50, 20_000, () => 'no request reached v1 after the rollback')
    await waitFor(async () => (await instancesOf(platform, 'roll')).every((i) => i.version === 1), 20_000, () => 'v2 did not drain away')
    const outcome = await load.stop()
    assert.deepEqual(outcome.failures.slice(0, 5), [], `${outcome.failures.length} of ${load.total} requests failed`)
  })
})

describe('drain is a handshake', () => {
  test('five rollouts and rollbacks in a row under 40 callers, min 2, fail no request', async () => {
    await apply('flip', 'scale: { min: 2, max: 2 }', handler('v1'))
    await waitFor(async () => (await ready('flip')).length >= 2, 20_000, () => 'flip did not start two instances')
    await apply('flip', 'scale: { min: 2, max: 2 }', handler('v2'))
    await waitFor(async () => (await ready('flip')).filter((i) => i.version === 2).length >= 2, 20_000, () => 'v2 did not start')
    const load = new Load(`${platform.config.gateway}/fn/flip`)
    load.setCallers(40)
    try {
      for (let round = 0; round < 5; round++) {
        for (const to of ['v1', 'v2']) {
          const before = load.outcome.bodies.get(to) ?? 0
          ok(await platform.cli(['rollback', 'flip', '--to', to]), `rollback --to ${to}`)
          await waitFor(() => (load.outcome.bodies.get(to) ?? 0) > before + 200, 20_000, () => `no request reached ${to} in round ${round}`)
          // The other version drains while the load goes on: its instances close only after the gateway let go.
          await waitFor(async () => (await instancesOf(platform, 'flip')).every((i) => `v${i.version}` === to || i.state === 'draining'), 20_000, () => `the other version did not drain in round ${round}`)
        }
      }
    } finally {
      const outcome = await load.stop()
      assert.deepEqual(outcome.failures.slice(0, 5), [], `${outcome.failures.length} of ${load.total} requests failed`)
    }
  })
})

describe('metrics', () => {
  test('GET /metrics on the gateway and the API serves Prometheus text of requests, instances and scaling', async () => {
    const fromGateway = await (await platform.fetch('/metrics')).text()
    const fromApi = await (await platform.api('/metrics', { token: null })).text()
    for (const body of [fromGateway, fromApi]) {
      assert.match(body, /^roost_requests_total\{[^}]*function="step"[^}]*code="2xx"[^}]*\} \d+/m)
      assert.match(body, /^# TYPE roost_request_duration_seconds histogram$/m)
      assert.match(body, /^roost_instances\{[^}]*function="pair"[^}]*state="ready"[^}]*\} 2$/m)
      assert.match(body, /^roost_autoscaler_decisions_total\{[^}]*function="step"[^}]*direction="up"[^}]*\} \d+/m)
      assert.match(body, /^roost_instance_start_seconds_count\{/m)
      assert.match(body, /^roost_activator_queue_length\{/m)
    }
  })
})

describe('apply --wait', () => {
  test('returns once the new version serves; describe shows what serves meanwhile', async () => {
    await apply('waited', 'scale: { min: 1, max: 1 }', handler('w1'))
    writeFileSync(join(dir, 'waited.ts'), handler('w2'))
    const out = ok(await platform.cli(['apply', '-f', join(dir, 'waited.yaml'), '--wait']), 'apply --wait')
    assert.match(out, /^function\/waited configured \(v2\)\nfunction\/waited serving v2 100%\n$/)
    assert.equal(await text(platform, '/fn/waited'), 'w2')
  })

  test('fails with the cause when the new version cannot start, and the old one keeps serving', async () => {
    await apply('broken', 'scale: { min: 1, max: 1 }', handler('b1'))
    await waitFor(async () => (await ready('broken')).length === 1, 15_000, () => 'broken did not start')
    writeFileSync(join(dir, 'broken.ts'), 'throw new Error("cannot load")\nexport default () => new Response("never")\n')
    const result = await platform.cli(['apply', '-f', join(dir, 'broken.yaml'), '--wait', '--timeout', '20s'])
    assert.equal(result.code, 1, result.stdout + result.stderr)
    assert.match(result.stderr, /^error: function\/broken is not serving as applied: v2 cannot start: the module failed to load: .*cannot load.*; v1 100% serves\nhint: /)
    assert.equal(await text(platform, '/fn/broken'), 'b1')
  })
})
