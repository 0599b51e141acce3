import { test } from 'node:test'
import assert from 'node:assert/strict'
import { register as globalRegister } from 'prom-client'
import { ControlPlaneMetrics, joinExpositions } from '../../src/metrics/index.js'
import { find, parseExposition, value } from './parse-exposition.js'

// The control plane's series: instance starts, autoscaler decisions,
// instances per state, the warm pool; stale versions leave.

const hello = { namespace: 'default', name: 'hello', version: 2 }
const helloLabels = { namespace: 'default', function: 'hello', version: '2' }

test('renders instance starts by pool hit or miss, decisions, desired counts and the warm pool', async () => {
  const metrics = new ControlPlaneMetrics({ defaultMetrics: false })
  metrics.coldStart(hello, 0.04, true)
  metrics.coldStart(hello, 0.3, true)
  metrics.coldStart(hello, 1.5, false)
  metrics.scalingDecision(hello, 'up', 3)
  metrics.scalingDecision(hello, 'up', 5)
  metrics.scalingDecision(hello, 'down', 4)
  metrics.warmPoolSize(2)
  const samples = parseExposition(await metrics.text())
  assert.equal(value(samples, 'roost_instance_starts_total', { ...helloLabels, pool: 'hit' }), 2)
  assert.equal(value(samples, 'roost_instance_starts_total', { ...helloLabels, pool: 'miss' }), 1)
  assert.equal(value(samples, 'roost_instance_start_seconds_count', { ...helloLabels, pool: 'hit' }), 2)
  assert.equal(value(samples, 'roost_instance_start_seconds_bucket', { ...helloLabels, pool: 'hit', le: '0.05' }), 1)
  assert.ok(Math.abs(value(samples, 'roost_instance_start_seconds_sum', { ...helloLabels, pool: 'miss' }) - 1.5) < 1e-9)
  assert.equal(value(samples, 'roost_autoscaler_decisions_total', { ...helloLabels, direction: 'up' }), 2)
  assert.equal(value(samples, 'roost_autoscaler_decisions_total', { ...helloLabels, direction: 'down' }), 1)
  assert.equal(value(samples, 'roost_autoscaler_desired_instances', helloLabels), 4, 'a decision sets the desired count')
  metrics.setDesired(hello, 1)
  assert.equal(value(parseExposition(await metrics.text()), 'roost_autoscaler_desired_instances', helloLabels), 1)
  assert.equal(value(samples, 'roost_warm_pool_instances'), 2)
  assert.equal(find(samples, 'process_cpu_user_seconds_total').length, 0, 'no default metrics when turned off')
})

test('instances per state are recomputed from the list, with zeros for known versions', async () => {
  const metrics = new ControlPlaneMetrics({ defaultMetrics: false })
  const idle = { namespace: 'team-a', name: 'idle', version: 1 }
  metrics.setInstances([
    { namespace: 'default', function: 'hello', version: 2, state: 'ready' },
    { namespace: 'default', function: 'hello', version: 2, state: 'ready' },
    { namespace: 'default', function: 'hello', version: 2, state: 'starting' }
  ], [hello, idle])
  let samples = parseExposition(await metrics.text())
  assert.equal(value(samples, 'roost_instances', { ...helloLabels, state: 'ready' }), 2)
  assert.equal(value(samples, 'roost_instances', { ...helloLabels, state: 'starting' }), 1)
  assert.equal(value(samples, 'roost_instances', { ...helloLabels, state: 'draining' }), 0)
  for (const state of ['starting', 'ready', 'draining']) assert.equal(value(samples, 'roost_instances', { namespace: 'team-a', function: 'idle', version: '1', state }), 0)

  metrics.setInstances([{ namespace: 'default', function: 'hello', version: 2, state: 'draining' }], [hello, idle])
  samples = parseExposition(await metrics.text())
  assert.equal(value(samples, 'roost_instances', { ...helloLabels, state: 'ready' }), 0)
  assert.equal(value(samples, 'roost_instances', { ...helloLabels, state: 'draining' }), 1)
})

test('a version no longer listed loses its label sets, in every series', async () => {
  const metrics = new ControlPlaneMetrics({ defaultMetrics: false })
  const old = { namespace: 'default', name: 'hello', version: 1 }
  for (const fn of [old, hello]) {
    metrics.coldStart(fn, 0.1, false)
    metrics.scalingDecision(fn, 'up', 1)
  }
  metrics.setInstances([{ namespace: 'default', function: 'hello', version: 1, state: 'ready' }], [old, hello])
  let samples = parseExposition(await metrics.text())
  assert.ok(samples.some((s) => s.labels.version === '1'))

  metrics.setInstances([], [hello])
  samples = parseExposition(await metrics.text())
  assert.deepEqual(samples.filter((s) => s.labels.version === '1'), [], 'nothing is left of version 1')
  assert.equal(value(samples, 'roost_instances', { ...helloLabels, state: 'ready' }), 0)
  assert.equal(value(samples, 'roost_autoscaler_desired_instances', helloLabels), 1)
  assert.equal(value(samples, 'roost_instance_starts_total', { ...helloLabels, pool: 'miss' }), 1)

  // Without a list of versions, the instances' versions are the known ones.
  metrics.setInstances([])
  samples = parseExposition(await metrics.text())
  assert.deepEqual(samples.filter((s) => s.labels.function === 'hello'), [])
})

test('label values are escaped, the registry is its own, and the default process metrics can be included', async () => {
  const metrics = new ControlPlaneMetrics()
  const weird = { namespace: 'a"b', name: 'c\\d\ne', version: 7 }
  metrics.setDesired(weird, 3)
  const text = await metrics.text()
  assert.ok(text.includes('roost_autoscaler_desired_instances{namespace="a\\"b",function="c\\\\d\\ne",version="7"} 3'), 'escaped on the wire')
  const samples = parseExposition(text)
  assert.equal(value(samples, 'roost_autoscaler_desired_instances', { namespace: 'a"b', function: 'c\\d\ne', version: '7' }), 3)
  assert.ok(find(samples, 'process_cpu_user_seconds_total').length === 1)
  assert.ok(!(await globalRegister.metrics()).includes('roost_'), 'nothing lands in prom-client\'s global registry')
  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/)
})

test('joinExpositions ends every part with a line feed and skips empty ones', () => {
  assert.equal(joinExpositions('a 1', '', 'b 2\n'), 'a 1\nb 2\n')
  assert.equal(joinExpositions('', ''), '')
})
