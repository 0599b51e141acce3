// Entry of the gateway's worker thread: the data plane gets an event loop of
// its own, so builds, SQLite writes and controller work on the main thread
// never delay a request.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { DeliveryPort } from './delivery-port.js'
import { Gateway } from './gateway.js'
import type { GatewayCommand, GatewayOptions, GatewayReport } from './routing-table.js'

const port = parentPort
if (port === null) throw new Error('gateway-worker must run in a worker thread')

const { deliveries, ...options } = workerData as GatewayOptions & { deliveries: MessagePort }
const report = (message: GatewayReport): void => port.postMessage(message)
const gateway = new Gateway(options, report)
const deliveryPort = new DeliveryPort(deliveries, gateway)

port.on('message', (command: GatewayCommand) => {
  switch (command.t) {
    case 'table':
      gateway.applyTable(command.table)
      report({ t: 'table-applied', revision: command.table.revision })
      break
    case 'start-failed': gateway.startFailed(command.versionKey, command.reason); break
    case 'scrape-result': gateway.scrapeResult(command.id, command.text); break
    case 'expose': report({ t: 'exposition', id: command.id, text: gateway.exposition() }); break
    case 'publish-result':
    case 'invoke-async-result': gateway.controlAnswered(command.id, command.answer); break
    case 'close':
      deliveryPort.close()
      void gateway.close().then(() => {
        report({ t: 'closed' })
        port.close()
      })
      break
  }
})

gateway.listen().then(
  (address) => report({ t: 'listening', ...address }),
  (err: NodeJS.ErrnoException) => report({ t: 'listen-failed', code: err.code ?? 'UNKNOWN', message: err.message })
)
