// types/index.d.ts (@roost/types) is what a user's editor knows of the
// handler contract: modules of each shape type-check against it, and
// misuses of the event API do not.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ts from 'typescript'
import { REPO_ROOT } from '../helpers/platform.js'

const TYPES = JSON.stringify(join(REPO_ROOT, 'types', 'index.js'))

const GOOD = `import type { Context, FunctionModule, MessageBatch, ScheduledEvent, PublishError } from ${TYPES}
interface Order { sku: string, qty: number }

export const fetchOnly: FunctionModule = async (req: Request, ctx: Context) => {
  const result = await ctx.publish('orders', { sku: 'A-1', qty: 1 }, { key: 'o-1', delay: '5s', attributes: { tenant: 'acme' }, onDuplicate: 'refuse' })
  const many = await ctx.publishBatch('orders', [{ body: 'x' }, { body: new Uint8Array(2), delay: 250 }])
  return Response.json({ id: result.id, outcome: result.outcome, count: many.length, call: ctx.callId })
}

export const everything = {
  async fetch (req: Request, ctx: Context) { return new Response(ctx.callId ?? 'sync') },
  async queue (batch: MessageBatch<Order>, ctx: Context) {
    for (const m of batch) {
      const qty: number = m.body.qty
      if (qty < 0) m.deadLetter('negative')
      else if (m.attempt < m.maxAttempts) m.retry({ delay: '1m' })
      else m.ack()
      ctx.log.info(m.id, m.attributes.tenant, m.cloudEvent.source, m.createdAt)
    }
    batch.retryAll({ delay: 500 })
    batch.ackAll()
    ctx.log.info(batch.queue)
  },
  scheduled (event: ScheduledEvent, ctx: Context) {
    const at: number = event.scheduledTime
    ctx.log.info(event.cron, event.id, event.trigger, event.timezone, at)
  }
} satisfies FunctionModule

export const queueOnly = { async queue (batch: MessageBatch) { batch[0]?.ack() } } satisfies FunctionModule

export function onRefusal (err: PublishError): number | undefined {
  return err.status === 429 ? err.retryAfterMs : err.code.length
}
`

const BAD = `import type { FunctionModule, MessageBatch, ScheduledEvent, Context } from ${TYPES}
export const a = { queue (batch: MessageBatch) { batch[0].retry({ delay: 'soon' }) } } satisfies FunctionModule
export const b = { scheduled (event: ScheduledEvent) { event.scheduledTime.toUpperCase() } } satisfies FunctionModule
export const c = (ctx: Context) => ctx.publish('orders', 1, { onDuplicate: 'ignore' })
export const d = (ctx: Context) => { ctx.callId = 'mine' }
`

function diagnosticsOf (t: { after: (fn: () => void) => void }, files: Record<string, string>): Map<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'roost-types-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const paths = Object.entries(files).map(([name, text]) => { const path = join(dir, name); writeFileSync(path, text); return path })
  const program = ts.createProgram(paths, {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'], types: ['node'], typeRoots: [join(REPO_ROOT, 'node_modules', '@types')], skipLibCheck: false
  })
  const found = new Map<string, string[]>()
  for (const path of paths) {
    const source = program.getSourceFile(path) as ts.SourceFile
    found.set(path.slice(dir.length + 1), ts.getPreEmitDiagnostics(program, source).map((d) => {
      const line = d.file === undefined || d.start === undefined ? 0 : d.file.getLineAndCharacterOfPosition(d.start).line + 1
      return `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]}`
    }))
  }
  return found
}

test('modules of every shape type-check against @roost/types; misuses of the event API are type errors', (t) => {
  const found = diagnosticsOf(t, { 'good.mts': GOOD, 'bad.mts': BAD })
  assert.deepEqual(found.get('good.mts'), [])
  const bad = found.get('bad.mts') ?? []
  assert.deepEqual(bad.map((d) => Number(d.split(':')[0])), [2, 3, 4, 5], bad.join('\n'))
  assert.match(bad[0], /'"soon"' is not assignable/)
  assert.match(bad[1], /toUpperCase' does not exist on type 'number'/)
  assert.match(bad[2], /'"ignore"' is not assignable/)
  assert.match(bad[3], /read-only/)
})
