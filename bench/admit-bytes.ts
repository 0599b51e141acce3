// Not a suite: `node dist/bench/admit-bytes.js` prints the heap bytes the
// rules' own work allocates per request (bench/admit-cost.ts's admitBytes),
// for the governance suite's two rules targets and header sets: a figure to
// keep near 0, since what a governed request allocates the gateway thread
// collects again. No platform, no load: one loop on this thread.
import { compilePolicies, generateApiKey, type FunctionPolicy } from '../src/governance/index.js'
import { admitBytes } from './admit-cost.js'
import { governedRequests, rulesOf } from './governance.js'

const TENANTS = 64
const KEYS = 8
const RATE = 30_000

function policyOf (perCallerKey: string): FunctionPolicy {
  const compiled = compilePolicies([{ namespace: 'default', name: 'hello-rules', labels: {}, governance: rulesOf(perCallerKey) }], []).get('default/hello-rules')
  if (compiled === undefined || compiled.problems.length > 0) throw new Error(`the rules did not compile: ${JSON.stringify(compiled?.problems)}`)
  return compiled.policy
}

const keys = Array.from({ length: KEYS }, () => generateApiKey().key)
const headerSets = Array.from({ length: TENANTS }, (_, i) => ({ 'x-tenant': `tenant-${String(i).padStart(2, '0')}`, authorization: `Bearer ${keys[i % KEYS]}` }))
for (const [label, key, auth] of [['rules (per-tenant limit by header:x-tenant)', 'header:x-tenant', false], ['key-rules (per-caller limit by caller)', 'caller', true]] as const) {
  const bytes = admitBytes({ policy: policyOf(key), requests: governedRequests('hello-rules', headerSets, auth), rate: RATE, warmup: 300_000, batches: 200 })
  console.log(`${label}: ${bytes.toFixed(1)} B per request`)
}
