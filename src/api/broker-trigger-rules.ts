// Checks of a queue trigger's connector fields: a broker trigger names its
// broker by a URL of the right scheme without credentials (they come from a
// Secret, so `roost get -o yaml` never prints them), names what it reads on
// that broker, and takes none of the embedded queue's own fields.
import type { FieldProblem } from '../errors/index.js'
import { BROKER_QUEUE_FIELDS, EMBEDDED_ONLY_QUEUE_FIELDS, QUEUE_CONNECTORS, type QueueConnector } from './function-schema.js'
import { show, type Doc } from './schema-problems.js'

/** URL schemes per broker (TLS variants included). */
const SCHEMES: Record<Exclude<QueueConnector, 'embedded'>, readonly string[]> = {
  nats: ['nats:', 'tls:'],
  redis: ['redis:', 'rediss:'],
  rabbitmq: ['amqp:', 'amqps:']
}

/** What each broker must be told to find its messages. */
const REQUIRED: Record<Exclude<QueueConnector, 'embedded'>, ReadonlyArray<{ field: string, why: string }>> = {
  nats: [{ field: 'stream', why: 'the JetStream stream to read' }, { field: 'consumer', why: 'the durable pull consumer\'s name' }],
  redis: [{ field: 'stream', why: 'the stream key to read' }, { field: 'group', why: 'the consumer group that reads it' }],
  rabbitmq: []
}

const EMBEDDED_HINTS: Record<typeof EMBEDDED_ONLY_QUEUE_FIELDS[number], string> = {
  maxBatchWait: 'a broker trigger delivers what a fetch returns at once; leave it out',
  maxDepth: 'bound the queue on the broker itself (a stream\'s max-msgs, MAXLEN, a queue\'s x-max-length)',
  retention: 'the broker keeps its messages as it is configured to; leave it out',
  deadLetter: 'dead messages of a broker trigger are in `roost dlq` (and in the broker\'s own dead-letter place where it has one)'
}

export function connectorProblems (queue: Doc, field: string): FieldProblem[] {
  const connector = queue.connector
  // The schema reports a connector that is no known name.
  if (connector !== undefined && !(QUEUE_CONNECTORS as readonly unknown[]).includes(connector)) return []
  if (connector === undefined || connector === 'embedded') return embeddedProblems(queue, field)
  const kind = connector as Exclude<QueueConnector, 'embedded'>
  const problems: FieldProblem[] = []
  for (const name of EMBEDDED_ONLY_QUEUE_FIELDS) {
    if (queue[name] !== undefined) problems.push({ field: `${field}.${name}`, message: `the embedded queue's only, not a ${kind} trigger's: ${EMBEDDED_HINTS[name]}` })
  }
  for (const [name, kinds] of Object.entries(BROKER_QUEUE_FIELDS)) {
    if (queue[name] !== undefined && !kinds.includes(kind)) problems.push({ field: `${field}.${name}`, message: `a ${kinds.join(' or ')} field, not a ${kind} trigger's: ${brokerFieldsHint(kind)}` })
  }
  for (const { field: name, why } of REQUIRED[kind]) {
    if (queue[name] === undefined) problems.push({ field: `${field}.${name}`, message: `required for connector ${kind}: ${why}` })
  }
  if (queue.url === undefined) problems.push({ field: `${field}.url`, message: `required for connector ${kind}: where the broker is, e.g. ${exampleUrl(kind)}` })
  else if (typeof queue.url === 'string') problems.push(...urlProblems(queue.url, kind, `${field}.url`))
  return problems
}

function embeddedProblems (queue: Doc, field: string): FieldProblem[] {
  const problems: FieldProblem[] = []
  for (const name of Object.keys(BROKER_QUEUE_FIELDS)) {
    if (queue[name] !== undefined) problems.push({ field: `${field}.${name}`, message: 'a broker trigger\'s field: set `connector: nats`, `redis` or `rabbitmq` to read from a broker, or leave it out for the embedded queue' })
  }
  return problems
}

function urlProblems (text: string, kind: Exclude<QueueConnector, 'embedded'>, field: string): FieldProblem[] {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return [{ field, message: `not a URL: expected ${exampleUrl(kind)}` }]
  }
  const problems: FieldProblem[] = []
  if (!SCHEMES[kind].includes(url.protocol)) {
    problems.push({ field, message: `a ${kind} URL starts with ${SCHEMES[kind].map((s) => `${s}//`).join(' or ')}, got ${show(url.protocol)}` })
  }
  if (url.username !== '' || url.password !== '') {
    // The value is not echoed: it holds a password.
    problems.push({ field, message: 'credentials do not go in the URL (the API shows it): put them in a Secret (`roost secret create NAME --from-literal username=… --from-literal password=…`) and name it in auth.secret' })
  }
  if (url.hostname === '') problems.push({ field, message: `no host in it: expected ${exampleUrl(kind)}` })
  return problems
}

function exampleUrl (kind: Exclude<QueueConnector, 'embedded'>): string {
  return { nats: 'nats://127.0.0.1:4222', redis: 'redis://127.0.0.1:6379', rabbitmq: 'amqp://127.0.0.1:5672' }[kind]
}

function brokerFieldsHint (kind: Exclude<QueueConnector, 'embedded'>): string {
  const own = Object.entries(BROKER_QUEUE_FIELDS).filter(([, kinds]) => kinds.includes(kind)).map(([name]) => name)
  return `a ${kind} trigger takes ${own.join(', ')}`
}
