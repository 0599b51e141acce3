// Governance rules on a real `roost up` (issue 11, "Where the rules live"):
// the issue's OpenSergo example applied verbatim beside a Function, listed and
// described with the CLI, compiled for the function, kept across a restart;
// bad rules refused with file, line and column; names that resolve to nothing
// accepted and reported; namespaces real, down to the last object deleted.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { TestPlatform, writeProject } from '../helpers/platform.js'
import { ok } from '../helpers/e2e.js'
import { expectCliError, expectProblem } from '../helpers/problems.js'
import { issueExample } from '../fixtures/issue-11-example.js'

const FUNCTION = `apiVersion: roost.dev/v1
kind: Function
metadata:
  name: foo
  namespace: prod
  labels: { app: foo-app }
spec:
  source:
    inline: "export default () => new Response('foo')"
  http:
    path: /foo
  governance:
    retries: { attempts: 2 }
`

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({ 'rules.yaml': issueExample, 'function.yaml': FUNCTION })
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function roost (args: string[]): Promise<string> {
  return ok(await platform.cli(args, { cwd: dir }), `roost ${args.join(' ')}`)
}

function rows (table: string): string[][] {
  return table.trim().split('\n').map((line) => line.split(/\s{2,}/))
}

interface Rule { kind: string, metadata: { name: string, namespace: string }, spec: Record<string, unknown>, status: { functions: string[], problems: Array<{ message: string }> } }

test('the example applied as it stands (no -n) puts what the rule names with the rule, in prod, and requests to /foo beyond 10 per second get the fallback', async () => {
  const result = await platform.cli(['apply', '-f', 'rules.yaml'], { cwd: dir })
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stderr, '', 'nothing to warn about')
  assert.equal(result.stdout, 'ratelimitstrategy/rate-limit-foo created\nhttprequestfallbackaction/fallback-foo created\nfaulttolerancerule/my-rule created\n')
  const listed = rows(await roost(['get', 'rules', '-n', 'prod']))
  assert.deepEqual(listed[0], ['KIND', 'NAME', 'SUMMARY', 'STATUS', 'AGE'])
  assert.deepEqual(listed.map((row) => row[0]).slice(1).sort(), ['FaultToleranceRule', 'HttpRequestFallbackAction', 'RateLimitStrategy'])
  assert.ok(!listed.some((row) => row[3] === 'Unresolved'), 'the rule resolves what it names')
  ok(await platform.cli(['apply', '-f', 'function.yaml'], { cwd: dir }))
  // Fifteen at once: a 1 s sliding window admits ten of them at most.
  let answers: Array<{ status: number, body: string, limit: string | null }> = []
  for (let round = 0; round < 20; round++) {
    answers = await Promise.all(Array.from({ length: 15 }, async () => {
      const response = await platform.fetch('/foo')
      return { status: response.status, body: await response.text(), limit: response.headers.get('x-sentinel-limit') }
    }))
    if (answers.some((a) => a.status === 429)) break
    // The function's first instance or the table push may still be on its way.
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  const refused = answers.filter((a) => a.status === 429)
  assert.ok(refused.length >= 1, `some of 15 requests at once are refused: ${answers.map((a) => a.status).join(' ')}`)
  assert.ok(answers.filter((a) => a.status === 200).length <= 10)
  for (const a of refused) {
    assert.equal(a.body, 'Blocked by Sentinel')
    assert.equal(a.limit, 'foo')
  }
  ok(await platform.cli(['delete', '-f', 'rules.yaml'], { cwd: dir }))
  ok(await platform.cli(['delete', '-f', 'function.yaml'], { cwd: dir }))
})

test('the example applied verbatim into prod beside a function labelled app: foo-app compiles to 10 per 1s on /foo with the fallback', async () => {
  const applied = await platform.cli(['apply', '-f', 'rules.yaml', '-n', 'prod'], { cwd: dir })
  assert.equal(applied.code, 0, applied.stderr)
  assert.equal(applied.stderr, '', 'nothing to warn about')
  assert.equal(applied.stdout, 'ratelimitstrategy/rate-limit-foo created\nhttprequestfallbackaction/fallback-foo created\nfaulttolerancerule/my-rule created\n')
  ok(await platform.cli(['apply', '-f', 'function.yaml'], { cwd: dir }))

  const response = await platform.api('/apis/roost.dev/v1/namespaces/prod/functions/foo/governance')
  assert.equal(response.status, 200)
  const governance = await response.json() as { policy: { rules: unknown[], retry: { attempts: number } }, problems: unknown[] }
  assert.deepEqual(governance.policy.rules, [{
    id: 'FaultToleranceRule/my-rule',
    routes: [{ path: '/foo' }],
    strategies: [{ kind: 'rate-limit', name: 'rate-limit-foo', algorithm: 'sliding-window', limit: 10, windowMs: 1000, burst: 0, key: { by: 'function' }, maxKeys: 10000 }],
    fallbacks: { 'rate-limited': { kind: 'response', status: 429, body: 'Blocked by Sentinel', headers: [['X-Sentinel-Limit', 'foo']] } }
  }])
  assert.equal(governance.policy.retry.attempts, 2)
  assert.deepEqual(governance.problems, [])
})

test('get rules lists every kind with a KIND column; get KIND by plural or short name; -A adds NAMESPACE; -o json and yaml print the objects', async () => {
  const table = rows(await roost(['get', 'rules', '-n', 'prod']))
  assert.deepEqual(table.map((r) => r.slice(0, 2)), [
    ['KIND', 'NAME'],
    ['RateLimitStrategy', 'rate-limit-foo'],
    ['HttpRequestFallbackAction', 'fallback-foo'],
    ['FaultToleranceRule', 'my-rule']
  ])
  assert.deepEqual(table.slice(1).map((r) => r[3]), ['Applied', 'Applied', 'Applied'])
  assert.deepEqual(table[1]?.slice(2, 3), ['10 per 1s, sliding-window, per function'])
  assert.deepEqual(table[2]?.slice(2, 3), ['429 "Blocked by Sentinel" +1 header'])

  const strategies = rows(await roost(['get', 'ratelimitstrategies', '-n', 'prod']))
  assert.deepEqual(strategies.map((r) => r.slice(0, 1)), [['NAME'], ['rate-limit-foo']])
  const all = rows(await roost(['get', 'rules', '-A']))
  assert.deepEqual(all[0]?.slice(0, 3), ['NAMESPACE', 'KIND', 'NAME'])
  assert.deepEqual(all.slice(1).map((r) => r[0]), ['prod', 'prod', 'prod'])

  const one = JSON.parse(await roost(['get', 'rls', 'rate-limit-foo', '-n', 'prod', '-o', 'json'])) as Rule
  assert.equal(one.kind, 'RateLimitStrategy')
  assert.deepEqual(one.spec, { metricType: 'RequestAmount', limitMode: 'Global', threshold: 10, statDuration: '1s' }, 'the spec as written')
  assert.deepEqual(one.status.functions, ['foo'])
  const rule = parseYaml(await roost(['get', 'faulttolerancerule', 'my-rule', '-n', 'prod', '-o', 'yaml'])) as Rule
  assert.deepEqual(rule.status.problems, [])
  assert.equal(await roost(['get', 'rules', '-n', 'prod', '-o', 'name']), 'ratelimitstrategy/rate-limit-foo\nhttprequestfallbackaction/fallback-foo\nfaulttolerancerule/my-rule\n')
})

test('describe function lists every rule that applies, with routes, strategies and fallbacks', async () => {
  const described = await roost(['describe', 'function', 'foo', '-n', 'prod'])
  assert.match(described, /^Governance:$/m)
  assert.match(described, /^ {2}FaultToleranceRule\/my-rule +\/foo +10 per 1s, sliding-window, per function \(rate-limit-foo\) +rate-limited: 429 "Blocked by Sentinel" \+1 header$/m)
  assert.match(described, /^ {2}Retries: +2 attempts, backoff 25ms to 1s, budget 20% of requests \(at least 3\/s\)$/m)
  assert.match(described, /^ {2}From: +spec\.governance, FaultToleranceRule\/my-rule, RateLimitStrategy\/rate-limit-foo, HttpRequestFallbackAction\/fallback-foo$/m)
})

test('bad rules are refused before anything is sent, with file, line, column and what would be right', async () => {
  const write = (name: string, text: string): string => { writeFileSync(join(dir, name), text); return name }
  const unknownKind = write('unknown-kind.yaml', issueExample.replace('kind: RateLimitStrategy', 'kind: RateLimitStrateg'))
  const kind = expectCliError(await platform.cli(['apply', '-f', unknownKind, '-n', 'prod'], { cwd: dir }), /^unknown-kind\.yaml:2:1: kind "RateLimitStrateg" in apiVersion "fault-tolerance\.opensergo\.io\/v1alpha1" is not served/)
  assert.equal(kind.hint, 'did you mean kind: RateLimitStrategy? (apiVersion fault-tolerance.opensergo.io/v1alpha1)')

  const typo = write('typo.yaml', issueExample.replace('threshold: 10', 'treshold: 10'))
  expectCliError(await platform.cli(['apply', '-f', typo, '-n', 'prod'], { cwd: dir }), /^typo\.yaml:4:55: spec\.treshold: unknown field; did you mean "threshold"\?$/)

  const minutes = write('minutes.yaml', issueExample.replace('statDuration: "1s"', 'statDuration: "1m"'))
  expectCliError(await platform.cli(['apply', '-f', minutes, '-n', 'prod'], { cwd: dir }), /^minutes\.yaml:4:\d+: spec\.statDuration: "1m" is ambiguous: "m" means minutes to some readers and milli to others; write "1min" for minutes or "1ms" for milliseconds$/)

  const badTarget = write('target.yaml', issueExample.replace("targetResourceName: '/foo'", "targetResourceName: 'foo'"))
  expectCliError(await platform.cli(['apply', '-f', badTarget, '-n', 'prod'], { cwd: dir }), /^target\.yaml:21:15: spec\.targets\[0\]\.targetResourceName: expected a path such as "\/foo"/)

  const rules = JSON.parse(await roost(['get', 'rules', '-n', 'prod', '-o', 'json'])) as Rule[]
  assert.equal(rules.length, 3, 'nothing of the refused files was stored')
})

test('a rule naming a strategy that does not exist is stored and says so; creating the strategy resolves it', async () => {
  const file = join(dir, 'dangling.yaml')
  writeFileSync(file, `apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: later, namespace: prod, labels: { app: foo-app } }
spec:
  targets: [{ targetResourceName: 'GET:/fooa' }]
  strategies: [{ name: not-yet, kind: ConcurrencyLimitStrategy }]
`)
  const applied = await platform.cli(['apply', '-f', file], { cwd: dir })
  assert.equal(applied.code, 0, applied.stderr)
  assert.equal(applied.stderr, 'warning: dangling.yaml:1: faulttolerancerule/later: spec.strategies[0]: ConcurrencyLimitStrategy not-yet does not exist in namespace prod\n')
  const rule = JSON.parse(await roost(['get', 'ftr', 'later', '-n', 'prod', '-o', 'json'])) as Rule
  assert.deepEqual(rule.status.problems.map((p) => p.message), ['spec.strategies[0]: ConcurrencyLimitStrategy not-yet does not exist in namespace prod'])
  const governance = await (await platform.api('/apis/roost.dev/v1/namespaces/prod/functions/foo/governance')).json() as { problems: Array<{ rule: string }> }
  assert.deepEqual(governance.problems.map((p) => p.rule), ['FaultToleranceRule/later'], 'the function shows the problem too')

  const strategy = await platform.api('/apis/fault-tolerance.opensergo.io/v1alpha1/namespaces/prod/concurrencylimitstrategies/not-yet', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ manifest: { apiVersion: 'fault-tolerance.opensergo.io/v1alpha1', kind: 'ConcurrencyLimitStrategy', metadata: { name: 'not-yet', namespace: 'prod' }, spec: { maxConcurrency: 8 } } })
  })
  assert.equal(strategy.status, 201, await strategy.text())
  const resolved = JSON.parse(await roost(['get', 'ftr', 'later', '-n', 'prod', '-o', 'json'])) as Rule
  assert.deepEqual(resolved.status.problems, [])
  assert.equal(await roost(['delete', '-f', file]), 'faulttolerancerule/later deleted\n')
  assert.equal(await roost(['delete', 'cls', 'not-yet', '-n', 'prod']), 'concurrencylimitstrategy/not-yet deleted\n')
})

test('a namespace token reaches its own namespace\'s rules only', async () => {
  const token = (await roost(['token', 'create', '-n', 'team-a'])).trim()
  const path = '/apis/fault-tolerance.opensergo.io/v1alpha1/namespaces/prod/ratelimitstrategies/rate-limit-foo'
  await expectProblem(await platform.api(path, { token }), 403, 'ROOST_E_FORBIDDEN')
  await expectProblem(await platform.api(path, { token, method: 'DELETE' }), 403, 'ROOST_E_FORBIDDEN')
  const listed = await (await platform.api('/apis/roost.dev/v1/rules', { token })).json() as { items: unknown[] }
  assert.deepEqual(listed.items, [], 'team-a sees none of prod\'s rules')
  const own = await platform.api('/apis/fault-tolerance.opensergo.io/v1alpha1/namespaces/team-a/ratelimitstrategies/mine', {
    token,
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ manifest: { apiVersion: 'fault-tolerance.opensergo.io/v1alpha1', kind: 'RateLimitStrategy', metadata: { name: 'mine', namespace: 'team-a' }, spec: { threshold: 1, statDurationSeconds: 1 } } })
  })
  assert.equal(own.status, 201, await own.text())
  const deleted = await platform.api('/apis/fault-tolerance.opensergo.io/v1alpha1/namespaces/team-a/ratelimitstrategies/mine', { token, method: 'DELETE' })
  assert.equal(deleted.status, 200, await deleted.text())
})

test('rules are stored durably: a restart finds them and the function\'s governance as before', async () => {
  await platform.stop({ keepHome: true })
  platform = await TestPlatform.start({ home: platform.home })
  const names = await roost(['get', 'rules', '-n', 'prod', '-o', 'name'])
  assert.equal(names, 'ratelimitstrategy/rate-limit-foo\nhttprequestfallbackaction/fallback-foo\nfaulttolerancerule/my-rule\n')
  const governance = await (await platform.api('/apis/roost.dev/v1/namespaces/prod/functions/foo/governance')).json() as { policy: { rules: Array<{ id: string }> } }
  assert.deepEqual(governance.policy.rules.map((r) => r.id), ['FaultToleranceRule/my-rule'])
})

test('deleting a namespace\'s last object leaves no namespace behind', async () => {
  const namespaces = async (): Promise<string[]> => rows(await roost(['get', 'namespaces'])).slice(1).map((r) => r[0] as string)
  assert.ok((await namespaces()).includes('prod'))
  ok(await platform.cli(['delete', 'function', 'foo', '-n', 'prod']))
  assert.ok((await namespaces()).includes('prod'), 'its rules still hold it')
  assert.equal(await roost(['delete', '-f', 'rules.yaml', '-n', 'prod']), 'ratelimitstrategy/rate-limit-foo deleted\nhttprequestfallbackaction/fallback-foo deleted\nfaulttolerancerule/my-rule deleted\n')
  assert.ok(!(await namespaces()).includes('prod'))
  assert.equal(await roost(['get', 'rules', '-n', 'prod']), 'No rules found in prod namespace.\n')
  await expectProblem(await platform.api('/apis/roost.dev/v1/namespaces/prod'), 404, 'ROOST_E_NOT_FOUND')
})
