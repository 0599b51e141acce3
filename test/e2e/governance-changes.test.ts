// Changing rules on a real `roost up` (issue 11, "Tests and figures"): a rule
// added under load is in force within a second of `roost apply` returning and
// one deleted is gone as soon, and no request is lost that the rule did not
// refuse; bad rules in a Function's spec.governance or a TrafficLabelRule are
// refused with file, line and field, and a fallback naming a function that
// does not exist is reported on the function. (governance-rules.test.ts has the
// OpenSergo kinds' unknown kind, typo and dangling strategy.)
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { ok } from '../helpers/e2e.js'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { expectCliError } from '../helpers/problems.js'

const RULE = `apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: RateLimitStrategy
metadata: { name: twenty }
spec: { threshold: 20, statDurationSeconds: 1 }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: HttpRequestFallbackAction
metadata: { name: limited }
spec: { behavior: ReturnProvidedResponse, behaviorDesc: { responseStatusCode: 429, responseContentBody: limited } }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: steady-limit }
spec:
  selector: { app: steady-app }
  targets: [{ targetResourceName: /steady }]
  strategies: [{ name: twenty }]
  fallbackAction: limited
`

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({
    'steady.yaml': manifest('steady', 'source:\n  inline: "export default () => new Response(\'ok\')"\nhttp: { path: /steady }', '  labels: { app: steady-app }\n'),
    'rule.yaml': RULE
  })
  ok(await platform.cli(['apply', '-f', 'steady.yaml'], { cwd: dir }), 'apply steady')
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface Timed { sentAt: number, doneAt: number, status: number, body: string }

/** Callers in closed loops, recording when each request left and its answer came back. */
class TimedLoad {
  private readonly agent = new Agent({ connections: 16, pipelining: 0 })
  private stopped = false
  private readonly loops: Array<Promise<void>>
  readonly answers: Timed[] = []

  constructor (url: string, callers: number) {
    this.loops = Array.from({ length: callers }, async () => {
      while (!this.stopped) {
        const sentAt = Date.now()
        try {
          const response = await request(url, { dispatcher: this.agent })
          const body = await response.body.text()
          this.answers.push({ sentAt, doneAt: Date.now(), status: response.statusCode, body })
        } catch (err) {
          this.answers.push({ sentAt, doneAt: Date.now(), status: 0, body: (err as Error).message })
        }
      }
    })
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await Promise.all(this.loops)
    await this.agent.close()
  }
}

test('a rate limit added under load holds within a second of apply returning; deleted, it is gone as soon; nothing else is refused or lost', async () => {
  const load = new TimedLoad(`${platform.config.gateway}/steady`, 2)
  try {
    await waitFor(() => load.answers.length >= 50, 10_000, () => 'the load never got going')
    const applyStart = Date.now()
    ok(await platform.cli(['apply', '-f', 'rule.yaml'], { cwd: dir }), 'apply the rule')
    const applied = Date.now()
    await waitFor(() => load.answers.some((a) => a.sentAt >= applied + 2_000), 10_000, () => 'no request two seconds after the apply')
    const deleteStart = Date.now()
    ok(await platform.cli(['delete', '-f', 'rule.yaml'], { cwd: dir }), 'delete the rule')
    const deleted = Date.now()
    await waitFor(() => load.answers.some((a) => a.sentAt >= deleted + 2_000), 10_000, () => 'no request two seconds after the delete')
    await load.stop()

    const answers = load.answers
    const odd = answers.filter((a) => !(a.status === 200 && a.body === 'ok') && !(a.status === 429 && a.body === 'limited'))
    assert.deepEqual(odd.slice(0, 5), [], `${odd.length} answers were neither the function's nor the rule's`)
    const refused = answers.filter((a) => a.status === 429)
    assert.ok(refused.every((a) => a.doneAt >= applyStart && a.sentAt <= deleted), 'only the rule refused, and only while it existed')
    // In the second after the first second after apply returned: every request sent and answered then
    // was admitted then, and no second admits more than 20.
    const inSecond = answers.filter((a) => a.sentAt >= applied + 1_000 && a.doneAt <= applied + 2_000)
    assert.ok(inSecond.some((a) => a.status === 429), `the limit refused nothing a second after apply (${inSecond.length} requests in that second)`)
    assert.ok(inSecond.filter((a) => a.status === 200).length <= 20, `${inSecond.filter((a) => a.status === 200).length} admitted in one second under a limit of 20`)
    const afterDelete = answers.filter((a) => a.sentAt >= deleted + 1_000)
    assert.ok(afterDelete.length > 20, `${afterDelete.length} requests after the delete`)
    assert.deepEqual(afterDelete.filter((a) => a.status !== 200), [], 'a second after delete returned nothing is refused')
    assert.ok(deleteStart > applied)
  } finally {
    await load.stop()
  }
})

test('a bad field in a Function\'s spec.governance is refused with file, line, column and the field', async () => {
  writeFileSync(join(dir, 'typo.yaml'), manifest('typo', 'source:\n  inline: "export default () => new Response(\'ok\')"\ngovernance:\n  rules:\n    - rateLimit: { limt: 5 }'))
  expectCliError(await platform.cli(['apply', '-f', 'typo.yaml'], { cwd: dir }), /^typo\.yaml:10:22: spec\.governance\.rules\[0\]\.rateLimit\.limt: unknown field; did you mean "limit"\?$/)
  writeFileSync(join(dir, 'burst.yaml'), manifest('burst', 'source:\n  inline: "export default () => new Response(\'ok\')"\ngovernance:\n  rules:\n    - rateLimit: { limit: 5, burst: 2 }'))
  expectCliError(await platform.cli(['apply', '-f', 'burst.yaml'], { cwd: dir }), /^burst\.yaml:10:\d+: spec\.governance\.rules\[0\]\.rateLimit\.burst: a burst is for algorithm token-bucket; sliding-window admits at most the limit per window$/)
  writeFileSync(join(dir, 'regex.yaml'), manifest('regex', 'source:\n  inline: "export default () => new Response(\'ok\')"\ngovernance:\n  lanes:\n    - { lane: beta, headers: { x-user: { regex: "(a+)+$" } } }'))
  expectCliError(await platform.cli(['apply', '-f', 'regex.yaml'], { cwd: dir }), /^regex\.yaml:10:\d+: spec\.governance\.lanes\[0\]\.headers\.x-user\.regex: /)
})

test('a bad field in a TrafficLabelRule is refused with file, line and the field', async () => {
  writeFileSync(join(dir, 'label.yaml'), `apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLabelRule
metadata: { name: beta-users }
spec:
  selector: { app: steady-app }
  lane: beta
  match:
    header: { x-beta: { exact: "yes" } }
`)
  expectCliError(await platform.cli(['apply', '-f', 'label.yaml'], { cwd: dir }), /^label\.yaml:8:5: spec\.match\.header: unknown field; did you mean "headers"\?$/)
})

test('a fallback naming a function that does not exist is accepted, and describe function reports it', async () => {
  writeFileSync(join(dir, 'dangling.yaml'), manifest('dangling', 'source:\n  inline: "export default () => new Response(\'ok\')"\ngovernance:\n  fallbacks:\n    breakerOpen: { function: nowhere }'))
  ok(await platform.cli(['apply', '-f', 'dangling.yaml'], { cwd: dir }), 'apply dangling.yaml')
  const described = ok(await platform.cli(['describe', 'function', 'dangling']), 'describe')
  assert.match(described, /^ {4}spec\.governance\.fallbacks: spec\.governance\.fallbacks\.breakerOpen\.function: function nowhere does not exist in namespace default; until it does, the gateway answers with its own response$/m)
})
