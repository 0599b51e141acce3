// The runtime as a plain HTTP server, for `roost dev` and for measuring an
// instance called directly:
//
//   node dist/src/runtime/serve.js --bundle FILE --port N [--host 127.0.0.1]
//
// Lines the function logs go to stdout, one per line, with their request id.
import { basename, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createHttpServer } from './http-serve.js'
import { Invoker } from './invoke.js'
import { installLightResponse } from './light-response.js'
import { loadBundle } from './load-bundle.js'
import { LogCapture } from './log-capture.js'
import { RequestTracking } from './request-tracking.js'

const { values } = parseArgs({
  options: {
    bundle: { type: 'string' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    timeout: { type: 'string', default: '30000' }
  }
})
if (values.bundle === undefined) {
  process.stderr.write('usage: serve.js --bundle FILE [--port N] [--host 127.0.0.1] [--timeout MS]\n')
  process.exit(64)
}

installLightResponse()
const capture = new LogCapture((message) => {
  for (const line of message.lines) process.stdout.write(`${new Date(line.time).toISOString()} ${line.level} ${line.requestId ?? '-'} ${line.message}\n`)
  if (message.dropped > 0) process.stdout.write(`… ${message.dropped} lines dropped\n`)
})
const requests = new RequestTracking({ lazy: true })
capture.patchConsole(requests)
const invoker = new Invoker(capture, requests)
const bundlePath = resolve(values.bundle)
const name = basename(bundlePath).replace(/\.[cm]?js$/, '')

try {
  const handlers = await loadBundle({ t: 'load', instanceId: `dev-${process.pid}`, bundlePath, fn: { namespace: 'dev', name, version: 0 }, env: {}, timeoutMs: Number(values.timeout) })
  invoker.setHandlers(handlers, { namespace: 'dev', name, version: 0 }, Number(values.timeout))
} catch (err) {
  process.stderr.write(`the module failed to load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(71)
}

const server = createHttpServer(invoker)
server.listen(Number(values.port), values.host, () => {
  const address = server.address()
  const port = address !== null && typeof address === 'object' ? address.port : values.port
  process.stdout.write(`listening on http://${values.host}:${port}\n`)
})
