// The consumer that the contract's kill -9 case kills: it builds a connector
// from its argv as the test describes it, fetches `count` messages, says so on
// stdout, and then holds them unsettled until it is killed. It ends by itself
// only when its stdin closes (the test process went away).
import { createConnector } from '../../src/connectors/index.js'
import type { ConnectorOptions, QueueBinding } from '../../src/connectors/index.js'

interface ChildArguments {
  options: ConnectorOptions
  binding: QueueBinding
  count: number
}

const FETCH_WAIT_MS = 1000
const GIVE_UP_MS = 60_000

async function main (): Promise<void> {
  const { options, binding, count } = JSON.parse(process.argv[2] ?? '') as ChildArguments
  const connector = createConnector(options)
  await connector.connect()
  const subscription = await connector.subscribe(binding)
  const deadline = Date.now() + GIVE_UP_MS
  let fetched = 0
  while (fetched < count) {
    if (Date.now() > deadline) throw new Error(`fetched ${fetched} of ${count} messages in ${GIVE_UP_MS} ms`)
    fetched += (await subscription.fetch(count - fetched, FETCH_WAIT_MS)).length
  }
  process.stdout.write(`fetched ${fetched}\n`)
  process.stdin.on('end', () => process.exit(0)).resume()
  setInterval(() => {}, 3_600_000)
}

main().catch((error: unknown) => {
  process.stderr.write(`consumer-child: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(2)
})
