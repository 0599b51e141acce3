import type { ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FunctionSpec } from './function-schema.js'
import type { FunctionView } from './function-view.js'
import { viewFunctions } from './live-functions.js'
import type { RouteDeps } from './live-functions.js'
import { callerOf, checkedNamespace } from './route-params.js'

// A watch of functions as application/x-ndjson: one `{"type":"ADDED"}` line per
// function first, then a MODIFIED or DELETED line whenever one changes, as
// `kubectl get -w` reads them. A function's status also moves without a store
// write (instances start, become ready, drain), so besides the store's watch the
// views are compared once a second; load figures that change all the time are
// left out of the comparison, so a busy function does not flood the stream.

const PREFIX = '/apis/roost.dev/v1'
const POLL_MS = 1_000
const HEARTBEAT_MS = 15_000

type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED'

export function registerWatchRoutes (app: FastifyInstance, deps: RouteDeps): void {
  const open = new Set<ServerResponse>()
  app.addHook('preClose', (done) => {
    for (const res of open) res.end(() => res.socket?.destroy())
    done()
  })

  app.get(`${PREFIX}/watch/functions`, async (request, reply) => {
    const caller = callerOf(request)
    watch(request, reply, deps, open, caller.namespace === '*' ? undefined : caller.namespace)
  })

  app.get<{ Params: { namespace: string } }>(`${PREFIX}/watch/namespaces/:namespace/functions`, async (request, reply) => {
    watch(request, reply, deps, open, checkedNamespace(request, request.params.namespace))
  })
}

function watch (_request: FastifyRequest, reply: FastifyReply, { store, live }: RouteDeps, open: Set<ServerResponse>, namespace: string | undefined): void {
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
  // Sent now, not with the first line: a watch of an empty namespace is established too.
  res.flushHeaders()
  const seen = new Map<string, { signature: string, view: FunctionView }>()
  const send = (type: WatchType, object: FunctionView): void => { res.write(JSON.stringify({ type, object }) + '\n') }

  const compare = (): void => {
    const views = viewFunctions(store, live, store.listResources<FunctionSpec>('Function', namespace))
    const now = new Set<string>()
    for (const view of views) {
      const key = `${view.metadata.namespace}/${view.metadata.name}`
      now.add(key)
      const signature = signatureOf(view)
      const before = seen.get(key)
      if (before?.signature === signature) continue
      seen.set(key, { signature, view })
      send(before === undefined ? 'ADDED' : 'MODIFIED', view)
    }
    for (const [key, { view }] of seen) {
      if (now.has(key)) continue
      seen.delete(key)
      send('DELETED', view)
    }
  }

  let scheduled = false
  const schedule = (): void => {
    if (scheduled) return
    scheduled = true
    setImmediate(() => {
      scheduled = false
      if (!res.destroyed) compare()
    })
  }
  compare()
  const unwatch = store.watch((event) => {
    if ((event.kind === 'Function' || event.kind === 'Version') && (namespace === undefined || event.namespace === namespace)) schedule()
  })
  const poll = setInterval(compare, POLL_MS)
  // Keeps proxies and the CLI from taking a quiet stream for a dead one.
  const heartbeat = setInterval(() => res.write('\n'), HEARTBEAT_MS)
  open.add(res)
  res.on('close', () => {
    clearInterval(poll)
    clearInterval(heartbeat)
    unwatch()
    open.delete(res)
  })
}

function signatureOf (view: FunctionView): string {
  const { status } = view
  return JSON.stringify([
    view.metadata.resourceVersion,
    status.latestVersion,
    status.traffic,
    status.serving,
    status.instances,
    status.conditions,
    status.versions.map((v) => [v.version, v.desired, v.ready, v.starting, v.draining, v.panic])
  ])
}
