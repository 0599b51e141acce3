// What a NATS queue trigger names, checked and derived: the stream, the
// durable consumer and the subject filter, and the subject Roost publishes to
// (a filter may hold wildcards, a published subject may not). Pure.
import { ValidationError } from '../errors/index.js'
import type { FieldProblem } from '../errors/index.js'
import type { QueueBinding } from './connector.js'

/** What a wildcard token of the filter becomes in the subject Roost publishes to. */
export const PUBLISH_TOKEN = 'roost'

export interface NatsNames {
  stream: string
  /** '' when only a publish needs the names. */
  consumer: string
  /** The consumer's filter subject, and the stream's subject when Roost creates the stream. */
  subject: string
}

const SHAPE_HINT = 'queue: { connector: nats, url: nats://…, stream: ORDERS, subject: orders.>, consumer: fulfil }'
// JetStream refuses these in stream and consumer names: they are subject tokens of its API.
const BAD_NAME = /[\s.*>/\\]/
const BAD_TOKEN = /[\s]/

/**
 * The binding's stream, consumer and subject; ValidationError naming each one
 * that is missing or malformed. A publish needs no consumer (`consumer: false`).
 */
export function natsNames (binding: Pick<QueueBinding, 'stream' | 'consumer' | 'subject'>, options: { consumer: boolean } = { consumer: true }): NatsNames {
  const problems: FieldProblem[] = []
  const stream = nameProblem(binding.stream, 'stream', problems)
  const consumer = options.consumer ? nameProblem(binding.consumer, 'consumer', problems) : ''
  const subject = binding.subject ?? ''
  const subjectProblem = subjectFilterProblem(subject)
  if (subjectProblem !== undefined) problems.push({ field: 'subject', message: subjectProblem })
  if (problems.length > 0) throw new ValidationError(problems, { hint: SHAPE_HINT })
  return { stream, consumer, subject }
}

/** Why `subject` is no subject filter, or undefined when it is one (`orders.>`, `orders.*.new`, `orders`). */
export function subjectFilterProblem (subject: string): string | undefined {
  if (subject === '') return 'a NATS queue trigger names its subject (the consumer\'s filter, e.g. orders.>)'
  const tokens = subject.split('.')
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string
    if (token === '') return `${JSON.stringify(subject)} has an empty token`
    if (BAD_TOKEN.test(token)) return `${JSON.stringify(subject)} holds white space`
    if (token === '>' && i !== tokens.length - 1) return `${JSON.stringify(subject)}: > may only be its last token`
    if (token !== '>' && token !== '*' && /[*>]/.test(token)) return `${JSON.stringify(subject)}: * and > are whole tokens`
  }
  return undefined
}

/** The subject Roost publishes a queue's messages to: the filter, with each wildcard token as `roost`. */
export function publishSubject (filter: string): string {
  return filter.split('.').map((token) => (token === '*' || token === '>' ? PUBLISH_TOKEN : token)).join('.')
}

function nameProblem (value: string | undefined, field: 'stream' | 'consumer', problems: FieldProblem[]): string {
  if (value === undefined || value === '') {
    problems.push({ field, message: `a NATS queue trigger names its ${field}` })
  } else if (BAD_NAME.test(value)) {
    problems.push({ field, message: `${JSON.stringify(value)} is no JetStream ${field} name: it may not hold white space, '.', '*', '>', '/' or '\\'` })
  }
  return value ?? ''
}
