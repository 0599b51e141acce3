import { isRoostError, ValidationError, type FieldProblem } from '../errors/index.js'
import { cloudEventHeaders, receiveCloudEvent, type HeaderMap } from '../events/index.js'

// CloudEvents 1.0 over HTTP at the gateway: a function sees every event in one
// shape, binary mode (ce-* headers, the data as the body, datacontenttype as
// Content-Type). A structured-mode request (Content-Type
// application/cloudevents+json) is read whole and turned into that shape; a
// binary-mode one (it has ce-specversion) goes through as it came once its
// attributes check out. An event that breaks the spec is refused with 400,
// naming the attribute, before it reaches the function.

/** The media types of the CloudEvents formats begin with this (structured and batched). */
const CLOUDEVENTS_MEDIA = 'application/cloudevents'
/** Shorter Content-Type values cannot name a CloudEvents format: one length test clears ordinary requests. */
export const CLOUDEVENTS_MEDIA_MIN_LENGTH = CLOUDEVENTS_MEDIA.length
const EMPTY = Buffer.alloc(0)
/** Headers the structured request had that the binary one sets itself. */
const REPLACED = new Set(['content-type', 'content-length', 'transfer-encoding'])

/** Whether a Content-Type (of at least CLOUDEVENTS_MEDIA_MIN_LENGTH characters) names a CloudEvents format. */
export function isCloudEventsMediaType (value: string): boolean {
  return (value.charCodeAt(12) | 32) === 99 /* c */ && value.slice(0, CLOUDEVENTS_MEDIA.length).toLowerCase() === CLOUDEVENTS_MEDIA
}

export interface InvalidEvent {
  detail: string
  field: string | undefined
  errors: FieldProblem[]
}

export interface BinaryEvent {
  /** rawHeaders-style: name, value, name, value, … */
  headers: string[]
  body: Buffer
}

/** The problem with a binary-mode event's attributes, or null when it is a valid event. */
export function binaryEventProblem (headers: HeaderMap): InvalidEvent | null {
  try {
    receiveCloudEvent(headers, EMPTY)
    return null
  } catch (err) {
    return invalidEvent(err)
  }
}

/**
 * A structured-mode request as binary mode: its headers less Content-Type,
 * Content-Length and any ce-* it had, plus the event's ce-* headers, its
 * Content-Type and the data's length; or, when the event is not valid, what is wrong with it.
 */
export function structuredToBinary (raw: readonly string[], headers: HeaderMap, body: Buffer): BinaryEvent | InvalidEvent {
  let event
  try {
    event = receiveCloudEvent(headers, body)
  } catch (err) {
    return invalidEvent(err)
  }
  if (event === undefined) return { detail: 'the request is not a CloudEvent', field: 'content-type', errors: [] }
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase()
    if (REPLACED.has(lower) || lower.startsWith('ce-')) continue
    out.push(raw[i] as string, raw[i + 1] as string)
  }
  const binary = cloudEventHeaders(event.attributes)
  // Without datacontenttype the data of the JSON format is JSON (CloudEvents json-format §3.1).
  if (binary['content-type'] === undefined && event.data !== undefined) binary['content-type'] = 'application/json'
  for (const [name, value] of Object.entries(binary)) out.push(name, value)
  const data = event.data === undefined ? EMPTY : Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength)
  out.push('content-length', String(data.byteLength))
  return { headers: out, body: data }
}

export function isInvalidEvent (value: BinaryEvent | InvalidEvent): value is InvalidEvent {
  return 'detail' in value
}

function invalidEvent (err: unknown): InvalidEvent {
  if (err instanceof ValidationError) return { detail: err.message, field: err.field, errors: err.errors }
  if (isRoostError(err)) return { detail: err.message, field: err.field, errors: [] }
  throw err
}
