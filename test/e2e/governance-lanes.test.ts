// Lanes on a real `roost up` (issue 11, "Lanes and header routing"): a
// request whose header, cookie or query matches a lane (spec.governance.lanes,
// or an OpenSergo TrafficLabelRule selecting the app) goes to the version whose
// traffic entry names that lane, whatever its percent; a lane no version serves
// takes the default split; the lane reaches the handler as ctx.lane and travels
// with the calls it makes through ctx.fetch, so a whole chain stays in its lane.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { ok } from '../helpers/e2e.js'
import { answer } from '../helpers/governance.js'
import { TestPlatform, writeProject } from '../helpers/platform.js'

// Which version answered and in which lane; ?call=PATH answers what PATH answered through ctx.fetch.
const SVC_TS = `
export default async (req: Request, ctx: any): Promise<Response> => {
  const target = new URL(req.url).searchParams.get('call')
  const own = { name: ctx.function.name, version: ctx.function.version, lane: ctx.lane }
  if (target === null) return Response.json(own)
  return Response.json({ ...own, called: await (await ctx.fetch(target)).json() })
}
`

const svc = (version: number, traffic = ''): string => `apiVersion: roost.dev/v1
kind: Function
metadata: { name: svc, labels: { app: shop } }
spec:
  source: ./svc.ts
  env: { BUILD: "${version}" }
${traffic}`

const LANED = `  traffic:
    - { version: 1, percent: 100 }
    - { version: 2, percent: 0, lane: beta }
    - { version: 3, percent: 0, lane: gray }
  governance:
    lanes:
      - { lane: beta, headers: { x-beta: { exact: "yes" } } }
      - { lane: beta, cookies: { tester: { prefix: team- } } }
`

const RULES = `apiVersion: roost.dev/v1
kind: Function
metadata: { name: front, labels: { app: shop } }
spec:
  source: ./svc.ts
---
apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLabelRule
metadata: { name: gray-users }
spec:
  selector: { app: shop }
  lane: gray
  match: { queryParams: { gray: { exact: 1 } } }
---
apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLabelRule
metadata: { name: ghosts, labels: { app: shop } }
spec:
  lane: { name: ghost }
  match:
    - { headers: { x-ghost: { regex: "^b+oo$" } } }
    - { uri: { prefix: /fn/svc/haunted } }
`

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({ 'svc.ts': SVC_TS, 'rules.yaml': RULES })
  const apply = async (text: string): Promise<void> => { ok(await platform.cli(['apply', '-f', '-'], { cwd: dir, input: text }), 'apply') }
  for (const version of [1, 2, 3]) await apply(svc(version))
  await apply(svc(3, LANED))
  ok(await platform.cli(['apply', '-f', 'rules.yaml'], { cwd: dir }), 'apply rules.yaml')
})

after(async () => {
  await platform?.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface Seen { name: string, version: number, lane: string | null, called?: Seen }

async function seen (path: string, init?: RequestInit): Promise<Seen> {
  const got = await answer(platform, path, init)
  assert.equal(got.status, 200, `${path}: ${got.status} ${got.body}`)
  return JSON.parse(got.body) as Seen
}

const versionAndLane = (s: Seen): [number, string | null] => [s.version, s.lane]

test('a request that matches no lane takes the default split', async () => {
  for (let i = 0; i < 3; i++) assert.deepEqual(versionAndLane(await seen('/fn/svc')), [1, null])
})

test('spec.governance.lanes: a matching header or cookie sends the request to the version of the lane, even at 0%', async () => {
  assert.deepEqual(versionAndLane(await seen('/fn/svc', { headers: { 'x-beta': 'yes' } })), [2, 'beta'])
  assert.deepEqual(versionAndLane(await seen('/fn/svc', { headers: { cookie: 'theme=dark; tester=team-a' } })), [2, 'beta'])
  assert.deepEqual(versionAndLane(await seen('/fn/svc', { headers: { 'x-beta': 'no', cookie: 'tester=guest' } })), [1, null], 'near misses stay out')
})

test('a TrafficLabelRule selecting the app labels traffic into its lane by query parameter', async () => {
  assert.deepEqual(versionAndLane(await seen('/fn/svc?gray=1')), [3, 'gray'])
  assert.deepEqual(versionAndLane(await seen('/fn/svc?gray=2')), [1, null])
})

test('a lane no version serves takes the default split, and the handler still sees its lane', async () => {
  assert.deepEqual(versionAndLane(await seen('/fn/svc', { headers: { 'x-ghost': 'bbboo' } })), [1, 'ghost'])
  assert.deepEqual(versionAndLane(await seen('/fn/svc/haunted/house')), [1, 'ghost'])
})

test('the lane travels with calls made through ctx.fetch: the called function serves it from its lane\'s version', async () => {
  const chain = await seen('/fn/front?gray=1&call=/fn/svc')
  assert.deepEqual([chain.name, chain.lane], ['front', 'gray'])
  assert.deepEqual(versionAndLane(chain.called as Seen), [3, 'gray'], 'the call carried no ?gray=1, only the lane')
  const plain = await seen('/fn/front?call=/fn/svc')
  assert.deepEqual(versionAndLane(plain.called as Seen), [1, null])
})

test('a caller from outside cannot pick a lane by sending x-roost-lane itself', async () => {
  assert.deepEqual(versionAndLane(await seen('/fn/svc', { headers: { 'x-roost-lane': 'beta' } })), [1, null])
})

test('roost describe function lists the lanes from both sources, and get rules the TrafficLabelRules', async () => {
  const described = ok(await platform.cli(['describe', 'function', 'svc']), 'describe')
  const lanes = described.slice(described.indexOf('  Lanes:\n'), described.indexOf('  Caller:'))
  assert.equal(lanes, [
    '  Lanes:',
    '    beta when header x-beta = "yes" (spec.governance.lanes[0])',
    '    beta when cookie tester ^= "team-" (spec.governance.lanes[1])',
    '    ghost when header x-ghost ~ /^b+oo$/ (TrafficLabelRule/ghosts[0])',
    '    ghost when path ^= "/fn/svc/haunted" (TrafficLabelRule/ghosts[1])',
    '    gray when query gray = "1" (TrafficLabelRule/gray-users)',
    ''
  ].join('\n'))
  assert.match(described, /^Traffic: +v1 100%, v2 0%, v3 0%/m)
  const rules = ok(await platform.cli(['get', 'trafficlabelrules']), 'get trafficlabelrules')
  assert.match(rules, /^gray-users +app=shop → lane gray when query gray = "1" +Applied/m)
})
