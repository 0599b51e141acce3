import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ControlPlaneMetrics } from '../../src/metrics/index.js'
import { checkExposition } from './exposition-rules.js'

const GOOD = `# HELP roost_requests_total Requests.
# TYPE roost_requests_total counter
roost_requests_total{function="a",code="2xx"} 3
# HELP roost_request_duration_seconds Latency.
# TYPE roost_request_duration_seconds histogram
roost_request_duration_seconds_bucket{le="0.1"} 1
roost_request_duration_seconds_bucket{le="+Inf"} 2
roost_request_duration_seconds_sum 0.3
roost_request_duration_seconds_count 2
# HELP roost_instances Instances.
# TYPE roost_instances gauge
roost_instances{state="ready"} 1
`

test('the rule checker passes a well-formed exposition', () => {
  assert.deepEqual(checkExposition(GOOD), [])
})

test('the rule checker reports what promtool reports', () => {
  const cases: Array<[string, RegExp]> = [
    ['# HELP x_active_total X.\n# TYPE x_active_total gauge\nx_active_total 1\n', /non-counter metrics should not have "_total" suffix/],
    ['# HELP x_requests X.\n# TYPE x_requests counter\nx_requests 1\n', /counter metrics should have "_total" suffix/],
    ['# TYPE x_things gauge\nx_things 1\n', /no help text/],
    ['# HELP x_latency_milliseconds X.\n# TYPE x_latency_milliseconds gauge\nx_latency_milliseconds 1\n', /use base unit "seconds" instead of "milliseconds"/],
    ['# HELP x_latency_ms X.\n# TYPE x_latency_ms gauge\nx_latency_ms 1\n', /abbreviated units/],
    ['# HELP x_gauge_size X.\n# TYPE x_gauge_size gauge\nx_gauge_size 1\n', /should not include type 'gauge'/],
    ['# HELP x:y X.\n# TYPE x:y gauge\nx:y 1\n', /should not contain ':'/],
    ['# HELP xCount X.\n# TYPE xCount gauge\nxCount 1\n', /snake_case/],
    ['# HELP x_y X.\n# TYPE x_y gauge\nx_y{fooBar="1"} 1\n', /label name "fooBar" should be snake_case/],
    ['# HELP x_y X.\nx_y 1\n# TYPE x_y gauge\n', /TYPE of x_y after its samples/],
    ['# HELP x_y X.\n# TYPE x_y gauge\n# TYPE x_y gauge\nx_y 1\n', /second TYPE/],
    ['# HELP x_y X.\n# TYPE x_y meter\nx_y 1\n', /"meter" is not a metric type/],
    ['# HELP x_y X.\n# TYPE x_y gauge\nx_y one\n', /"one" is not a sample value/],
    ['# HELP x_y X.\n# TYPE x_y gauge\nx_y{a="1",a="2"} 1\n', /label a twice/],
    ['# HELP x_y X.\n# TYPE x_y gauge\nx_y{a="1} 1\n', /bad labels|not a sample/],
    ['# HELP x_y X.\n# TYPE x_y gauge\nx_y 1\n# HELP x_z X.\n# TYPE x_z gauge\nx_z 1\nx_y 2\n', /lines are not together/],
    ['# HELP x_count X.\n# TYPE x_count gauge\nx_count 1\n', /should not have "_count" or "_sum" suffix/],
    ['# HELP x_seconds X.\n# TYPE x_seconds histogram\nx_seconds_bucket 1\n', /bucket of x_seconds without le/],
    ['# HELP x_y X.\n# TYPE x_y gauge\nx_y 1', /does not end with a line feed/]
  ]
  for (const [text, expected] of cases) {
    const problems = checkExposition(text)
    assert.ok(problems.some((p) => expected.test(p)), `${JSON.stringify(text)}: expected ${String(expected)}, got ${JSON.stringify(problems)}`)
  }
})

test('the control plane exposition, with the default process metrics, passes the rules', async () => {
  const metrics = new ControlPlaneMetrics()
  metrics.coldStart({ namespace: 'default', name: 'f', version: 1 }, 0.1, true)
  metrics.scalingDecision({ namespace: 'default', name: 'f', version: 1 }, 'up', 2)
  metrics.setInstances([{ namespace: 'default', function: 'f', version: 1, state: 'ready' }])
  metrics.warmPoolSize(2)
  const text = await metrics.text()
  assert.deepEqual(checkExposition(text), [])
  // The per-type gauges stay; only their misnamed `_total` sums are gone.
  assert.match(text, /^# TYPE nodejs_active_handles gauge$/m)
  assert.doesNotMatch(text, /nodejs_active_handles_total/)
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m)
})
