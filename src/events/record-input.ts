// A publisher's record, checked and encoded before anything is written: every
// bound of a queue message (body size, key, delay, attributes) is enforced
// here, so a bad one is refused with its field and the batch writes nothing.
import { isUtf8 } from 'node:buffer'
import type { FieldProblem } from '../errors/index.js'
import { PayloadTooLargeError, ValidationError } from '../errors/index.js'
import { extensionNameProblem } from './cloud-event.js'
import { isJsonText } from './json-text.js'
import type { QueuePolicy } from './queue-policy.js'
import type { EncodedBody } from './record-body.js'
import { defaultContentType, encodeBody } from './record-body.js'
import type { BodyType, NewRecord, RecordKind } from './record-types.js'

export const RECORD_LIMITS = Object.freeze({
  maxIdLength: 256,
  maxKeyLength: 256,
  maxDelayMs: 7 * 24 * 3600_000,
  maxAttributes: 32,
  maxAttributeValueLength: 4096,
  maxTextAttributeLength: 1024
})

const DEFAULT_TYPES: Record<RecordKind, string> = {
  message: 'dev.roost.queue.message',
  invocation: 'dev.roost.async.invocation',
  firing: 'dev.roost.cron.firing'
}

export interface PreparedRecord {
  id: string | undefined
  kind: RecordKind
  key: string | undefined
  replace: boolean
  body: Buffer
  bodyType: BodyType
  contentType: string
  source: string
  type: string
  subject: string | null
  attributes: string
  delayMs: number
  maxAttempts: number
  maxAgeMs: number | undefined
}

export function prepareRecord (input: NewRecord, namespace: string, queue: string, policy: QueuePolicy, field: string): PreparedRecord {
  const problems: FieldProblem[] = []
  const at = (name: string): string => field === '' ? name : `${field}.${name}`
  const { bytes, type: bodyType } = input.bodyType === undefined ? encodeBody(input.body) : preEncodedBody(input.body, input.bodyType, at('body'))
  if (bytes.byteLength > policy.maxBodyBytes) {
    throw new PayloadTooLargeError(`the body is ${bytes.byteLength} bytes; queue ${namespace}/${queue} takes at most ${policy.maxBodyBytes}`, { field: at('body') })
  }
  checkText(problems, at('id'), input.id, RECORD_LIMITS.maxIdLength)
  checkText(problems, at('key'), input.key, RECORD_LIMITS.maxKeyLength)
  checkText(problems, at('source'), input.source, RECORD_LIMITS.maxTextAttributeLength)
  checkText(problems, at('type'), input.type, RECORD_LIMITS.maxTextAttributeLength)
  checkText(problems, at('subject'), input.subject, RECORD_LIMITS.maxTextAttributeLength)
  checkText(problems, at('contentType'), input.contentType, RECORD_LIMITS.maxTextAttributeLength)
  const delayMs = input.delayMs ?? 0
  if (!Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > RECORD_LIMITS.maxDelayMs) {
    problems.push({ field: at('delay'), message: `a delay is 0 to ${RECORD_LIMITS.maxDelayMs} ms, got ${String(input.delayMs)}` })
  }
  const maxAttempts = input.maxAttempts ?? policy.maxAttempts
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    problems.push({ field: at('maxAttempts'), message: `maxAttempts is a whole number of at least 1, got ${String(input.maxAttempts)}` })
  }
  const maxAgeMs = input.maxAgeMs ?? policy.maxAgeMs
  if (maxAgeMs !== undefined && (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 1)) {
    problems.push({ field: at('maxAge'), message: `a maximum age is at least 1 ms, got ${String(input.maxAgeMs)}` })
  }
  if (input.onDuplicate !== undefined && input.onDuplicate !== 'refuse' && input.onDuplicate !== 'replace') {
    problems.push({ field: at('onDuplicate'), message: `onDuplicate is "refuse" or "replace", got ${JSON.stringify(input.onDuplicate)}` })
  }
  const attributes = input.attributes ?? {}
  checkAttributes(problems, at('attributes'), attributes)
  if (problems.length > 0) throw new ValidationError(problems)
  const kind = input.kind ?? 'message'
  return {
    id: input.id,
    kind,
    key: input.key,
    replace: input.onDuplicate === 'replace',
    body: bytes,
    bodyType,
    contentType: input.contentType ?? defaultContentType(bodyType),
    source: input.source ?? `/namespaces/${namespace}/queues/${queue}`,
    type: input.type ?? DEFAULT_TYPES[kind],
    subject: input.subject ?? null,
    attributes: JSON.stringify(attributes),
    delayMs,
    maxAttempts,
    maxAgeMs
  }
}

function preEncodedBody (body: unknown, type: BodyType, field: string): EncodedBody {
  const problem = (message: string): ValidationError => new ValidationError([{ field, message }])
  if (!(body instanceof Uint8Array)) throw problem(`a body given with its type (${String(type)}) is bytes`)
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  switch (type) {
    case 'bytes':
      break
    case 'text':
      if (!isUtf8(bytes)) throw problem('a text body is UTF-8')
      break
    case 'json':
      if (!isUtf8(bytes) || !isJsonText(bytes)) throw problem('a json body is JSON text')
      break
    default:
      throw problem(`a body type is json, text or bytes, got ${JSON.stringify(type)}`)
  }
  return { bytes, type }
}

function checkText (problems: FieldProblem[], field: string, value: string | undefined, max: number): void {
  if (value === undefined) return
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    problems.push({ field, message: `must be a string of 1 to ${max} characters` })
  }
}

function checkAttributes (problems: FieldProblem[], field: string, attributes: Record<string, string>): void {
  const entries = Object.entries(attributes)
  if (entries.length > RECORD_LIMITS.maxAttributes) {
    problems.push({ field, message: `at most ${RECORD_LIMITS.maxAttributes} attributes, got ${entries.length}` })
  }
  for (const [name, value] of entries) {
    const problem = extensionNameProblem(name, `${field}.${name}`)
    if (problem !== null) problems.push(problem)
    else if (typeof value !== 'string' || value.length > RECORD_LIMITS.maxAttributeValueLength) {
      problems.push({ field: `${field}.${name}`, message: `an attribute value is a string of at most ${RECORD_LIMITS.maxAttributeValueLength} characters` })
    }
  }
}
