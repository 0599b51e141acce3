import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { messageData } from '../message-data.js'
import { outputFormat, printData } from '../output.js'
import { UsageError } from '../../errors/index.js'

interface PublishAnswer { results: Array<{ id: string, outcome: 'created' | 'replaced' | 'duplicate' }> }

const V1 = '/apis/roost.dev/v1'

export const command: Command = {
  summary: 'Publish a message to a queue.',
  usage: `Usage: roost publish QUEUE --data DATA|@FILE [-n NS] [--key K] [--delay 5s] [--attr K=V]... [--text] [-o json|yaml]

The message is stored durably before the command answers, then delivered to
the function whose spec.triggers declares the queue. DATA that is JSON is
sent as JSON, other text as text (--text: always text); @FILE sends the
file (JSON for a .json file, text when it is UTF-8, bytes otherwise).
A queue at its maxDepth refuses the message (exit code 1, with when to retry).

Flags:
  -n, --namespace   namespace (default: default)
  -d, --data        the message, or @FILE
      --key         idempotency key: a second message with the same key is a duplicate
      --on-duplicate  refuse (default) or replace a waiting message with the same key
      --delay       deliver it no sooner than this from now (500ms, 5s, 2m, 1h)
      --attr        an attribute K=V (repeatable; lower-case letters and digits)
      --text        send DATA as text even when it is JSON
  -o, --output      json or yaml: the answer as it is`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('publish', argv, {
      namespace: { type: 'string', short: 'n' },
      data: { type: 'string', short: 'd' },
      key: { type: 'string' },
      'on-duplicate': { type: 'string' },
      delay: { type: 'string' },
      attr: { type: 'string', multiple: true },
      text: { type: 'boolean' },
      output: { type: 'string', short: 'o' }
    })
    const [queue, ...extra] = positionals
    if (queue === undefined || extra.length > 0) throw new UsageError('publish needs one QUEUE', { hint: 'e.g. `roost publish orders --data \'{"id": 1}\'`' })
    if (values.data === undefined) throw new UsageError('publish needs --data', { hint: '--data \'{"id": 1}\', --data hello, or --data @order.json' })
    const format = outputFormat(values.output)
    const namespace = values.namespace ?? 'default'
    const message: Record<string, unknown> = { ...messageData(values.data, { text: values.text }) }
    if (values.key !== undefined) message.key = values.key
    if (values['on-duplicate'] !== undefined) message.onDuplicate = values['on-duplicate']
    if (values.delay !== undefined) message.delay = values.delay
    if (values.attr !== undefined) message.attributes = attributesOf(values.attr)
    const answer = await connect().post<PublishAnswer>(`${V1}/namespaces/${namespace}/queues/${encodeURIComponent(queue)}/messages`, { messages: [message] })
    if (format !== 'table') return printData(format, answer), 0
    const result = answer.results[0]
    if (result === undefined) return 0
    const where = `queue ${queue}${namespace === 'default' ? '' : ` in ${namespace}`}`
    process.stdout.write(result.outcome === 'duplicate'
      ? `duplicate: ${where} has message ${result.id} with key ${values.key ?? ''} already; nothing published\n`
      : `message ${result.id} ${result.outcome === 'replaced' ? 'replaced the waiting one with its key in' : 'published to'} ${where}\n`)
    return 0
  }
}

function attributesOf (pairs: string[]): Record<string, string> {
  const attributes: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new UsageError(`--attr ${pair} is not K=V`, { hint: 'e.g. --attr region=eu' })
    attributes[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return attributes
}
