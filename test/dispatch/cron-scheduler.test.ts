// The cron scheduler on a real EventStore and a manual clock. A start runs
// every trigger's due times at once, so stop() + start() is a restart of the
// platform; the timers in between are not what these tests read.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { CronScheduler, type CronPlan } from '../../src/dispatch/index.js'
import { firingId } from '../../src/events/index.js'
import { openFixture, type Fixture } from '../events/event-store-fixture.js'

const NS = 'ops'
const MINUTE = 60_000
const T0 = Date.UTC(2025, 5, 2, 10, 0)

function plan (over: Partial<CronPlan> = {}): CronPlan {
  return {
    namespace: NS, function: 'report', trigger: 'report.0', queue: 'cron.report.0', schedule: '* * * * *', timezone: 'UTC',
    overlap: 'allow', catchUp: 'skip', catchUpWindowMs: 3600_000, since: T0 - 30_000, ...over
  }
}

interface Harness {
  fixture: Fixture
  scheduler: CronScheduler
  fired: string[]
  replaced: string[]
  skipped: Array<{ overlapped: number, missed: number }>
  restart: () => void
  times: () => number[]
}

function harness (t: TestContext, trigger: CronPlan): Harness {
  const fixture = openFixture(t)
  fixture.clock.time = T0
  fixture.store.declareQueue(NS, trigger.queue)
  const fired: string[] = []
  const replaced: string[] = []
  const skipped: Array<{ overlapped: number, missed: number }> = []
  const scheduler = new CronScheduler({
    events: fixture.store,
    clock: fixture.clock,
    hooks: {
      onFired: (namespace, queue) => fired.push(`${namespace}/${queue}`),
      onReplace: (namespace, queue) => replaced.push(`${namespace}/${queue}`),
      onSkipped: (_plan, what) => skipped.push(what)
    }
  })
  scheduler.setTriggers([trigger])
  t.after(() => scheduler.stop())
  return {
    fixture,
    scheduler,
    fired,
    replaced,
    skipped,
    restart: () => {
      scheduler.stop()
      scheduler.start()
    },
    times: () => fixture.store.list(NS, trigger.queue).map((r) => (JSON.parse(Buffer.from(r.body).toString()) as { scheduledTime: number }).scheduledTime)
  }
}

test('a due time is fired once under its deterministic id, with the trigger, schedule and time in its body', (t) => {
  const h = harness(t, plan())
  h.scheduler.start()
  const [record] = h.fixture.store.list(NS, 'cron.report.0')
  assert.equal(record?.id, firingId(NS, 'report.0', T0))
  assert.equal(record?.kind, 'firing')
  assert.deepEqual(JSON.parse(Buffer.from(record?.body ?? []).toString()), { trigger: 'report.0', cron: '* * * * *', timezone: 'UTC', scheduledTime: T0 })
  assert.deepEqual(h.fired, ['ops/cron.report.0'])
  assert.deepEqual(h.scheduler.views().map((v) => [v.lastFiring, v.nextFiring]), [[T0, T0 + MINUTE]])
})

test('a restart at the same moment fires nothing again; a later one fires the times since', (t) => {
  const h = harness(t, plan())
  h.scheduler.start()
  h.restart()
  assert.deepEqual(h.times(), [T0])
  h.fixture.clock.advance(MINUTE + 30_000)
  h.restart()
  assert.deepEqual(h.times(), [T0, T0 + MINUTE], '30 s late is within the minute of lateness a tick may have')
  assert.equal(h.fired.length, 2)
})

test('after downtime, catchUp skip fires only what is on time and counts the missed', (t) => {
  const h = harness(t, plan())
  h.scheduler.start()
  h.scheduler.stop()
  h.fixture.clock.advance(10 * MINUTE + 30_000)
  h.scheduler.start()
  assert.deepEqual(h.times(), [T0, T0 + 10 * MINUTE])
  assert.deepEqual(h.skipped, [{ overlapped: 0, missed: 9 }], '10:01 to 10:09')
})

test('after downtime, catchUp latest fires the most recent missed time; all fires every one within the window', (t) => {
  const latest = harness(t, plan({ schedule: '*/5 * * * *', catchUp: 'latest' }))
  latest.scheduler.start()
  latest.scheduler.stop()
  latest.fixture.clock.advance(22 * MINUTE)
  latest.scheduler.start()
  assert.deepEqual(latest.times(), [T0, T0 + 20 * MINUTE])

  const all = harness(t, plan({ schedule: '*/5 * * * *', catchUp: 'all', catchUpWindowMs: 12 * MINUTE + 30_000 }))
  all.scheduler.start()
  all.scheduler.stop()
  all.fixture.clock.advance(22 * MINUTE)
  all.scheduler.start()
  assert.deepEqual(all.times(), [T0, T0 + 10 * MINUTE, T0 + 15 * MINUTE, T0 + 20 * MINUTE], 'within 12½ minutes back')
})

test('overlap forbid: a time due while the previous firing has not finished is skipped for good', (t) => {
  const h = harness(t, plan({ overlap: 'forbid' }))
  h.scheduler.start()
  h.fixture.clock.advance(MINUTE)
  h.restart()
  assert.deepEqual(h.times(), [T0], 'the first firing still waits: the second is skipped')
  assert.deepEqual(h.skipped, [{ overlapped: 1, missed: 0 }])
  assert.equal(h.fixture.store.lastFiring(NS, 'report.0'), T0 + MINUTE, 'the skipped time is passed, not caught up later')
  const [first] = h.fixture.store.lease(NS, 'cron.report.0', { max: 1, leaseMs: 1000, consumer: 't' })
  h.fixture.store.ack(first as { id: string, token: number })
  h.restart()
  assert.deepEqual(h.times(), [T0], 'a restart does not fire the skipped time')
  h.fixture.clock.advance(MINUTE)
  h.restart()
  assert.deepEqual(h.times(), [T0, T0 + 2 * MINUTE], 'the next time fires once the previous finished')
})

test('overlap replace: the waiting firing is cancelled and the running ones given up before the new one', (t) => {
  const h = harness(t, plan({ overlap: 'replace' }))
  h.scheduler.start()
  h.fixture.clock.advance(MINUTE)
  h.restart()
  const records = h.fixture.store.list(NS, 'cron.report.0')
  assert.deepEqual(records.map((r) => r.state), ['cancelled', 'ready'])
  assert.deepEqual(h.replaced, ['ops/cron.report.0'])
})

test('a schedule in a time zone fires at that zone\'s wall time', (t) => {
  // 09:00 in Paris is 07:00 UTC in June (CEST).
  const h = harness(t, plan({ schedule: '0 9 * * *', timezone: 'Europe/Paris', since: Date.UTC(2025, 5, 2, 6, 0) }))
  h.fixture.clock.time = Date.UTC(2025, 5, 2, 7, 0, 10)
  h.scheduler.start()
  assert.deepEqual(h.times(), [Date.UTC(2025, 5, 2, 7, 0)])
  assert.equal(h.scheduler.views()[0]?.nextFiring, Date.UTC(2025, 5, 3, 7, 0))
})

test('a trigger removed stops; a changed schedule takes effect', (t) => {
  const h = harness(t, plan())
  h.scheduler.start()
  h.scheduler.setTriggers([])
  assert.deepEqual(h.scheduler.views(), [])
  h.fixture.clock.advance(MINUTE)
  h.scheduler.setTriggers([plan({ schedule: '*/2 * * * *' })])
  assert.deepEqual(h.times(), [T0], 'nothing due on the new schedule yet')
  assert.equal(h.scheduler.views()[0]?.nextFiring, T0 + 2 * MINUTE)
})
