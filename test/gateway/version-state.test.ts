import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { VersionState } from '../../src/gateway/version-state.js'
import type { Call } from '../../src/gateway/call.js'
import { UpstreamInstance } from '../../src/gateway/upstream-instance.js'

const config = { key: 'default/f@1', version: 1, timeoutMs: 1000, concurrency: 2, queueLimit: 10 }

function call (deadline: number): Call {
  return { deadline, prev: null, next: null } as unknown as Call
}

// Real instances (one connects only on a first request, which pick never makes).
const made: UpstreamInstance[] = []
function instance (inflight: number, state: 'ready' | 'draining' | 'starting' = 'ready', concurrency = 2): UpstreamInstance {
  const upstream = new UpstreamInstance(`i${made.length}`, config.key, '/nonexistent/roost.sock', 'secret', concurrency, state, 0, { unreachable: () => {}, violation: () => {} })
  for (let i = 0; i < inflight; i++) upstream.acquire(0)
  made.push(upstream)
  return upstream
}

after(() => { for (const upstream of made) upstream.close() })

test('pick chooses the least-loaded ready instance with a free slot', () => {
  const version = new VersionState(config, 0)
  const busy = instance(1)
  const idle = instance(0)
  version.instances = [busy, idle, instance(0, 'draining'), instance(0, 'starting')]
  assert.equal(version.pick(), idle)
  idle.acquire(0)
  idle.acquire(0)
  assert.equal(version.pick(), busy)
  busy.acquire(0)
  assert.equal(version.pick(), null, 'no instance ever gets more than its concurrency')
})

test('open calls expire in deadline order, and only those past their deadline', () => {
  const version = new VersionState(config, 0)
  const calls = [call(10), call(20), call(30)]
  for (const c of calls) version.link(c, 0)
  const expired: number[] = []
  version.expire(20, (c) => { expired.push(c.deadline); version.unlink(c, 0) })
  assert.deepEqual(expired, [10, 20])
  version.expire(100, (c) => { expired.push(c.deadline); version.unlink(c, 0) })
  assert.deepEqual(expired, [10, 20, 30])
})

test('a call linked late with an earlier deadline is still expired first', () => {
  const version = new VersionState(config, 0)
  version.link(call(50), 0)
  version.link(call(10), 0)
  const expired: number[] = []
  version.expire(60, (c) => { expired.push(c.deadline); version.unlink(c, 0) })
  assert.deepEqual(expired, [10, 50])
})

test('unlinking from the middle keeps the list whole', () => {
  const version = new VersionState(config, 0)
  const [a, b, c] = [call(1), call(2), call(3)]
  version.link(a, 0)
  version.link(b, 0)
  version.link(c, 0)
  version.unlink(b, 0)
  const expired: number[] = []
  version.expire(10, (x) => { expired.push(x.deadline); version.unlink(x, 0) })
  assert.deepEqual(expired, [1, 3])
})

test('the open count follows link and unlink, and unlinking a call twice counts once', () => {
  const version = new VersionState(config, 0)
  const [a, b] = [call(1), call(2)]
  version.link(a, 0)
  version.link(b, 0)
  assert.equal(version.stats.open, 2)
  version.unlink(a, 10)
  version.unlink(a, 10)
  assert.equal(version.stats.open, 1)
  // Two open for 10 ms, then one for 10 ms: 1.5 on average over 20 ms.
  assert.equal(version.stats.take(20, 20).concurrency, 1.5)
})
