// CloudEvents 1.0 attributes (cloudevents/spec spec.md): what an event must
// carry, what it may, and the rules on extension names. Written here rather
// than taken from the `cloudevents` SDK: the checks are a page, the SDK brings
// a validator and transports Roost does not use, and the gateway needs them as
// field problems in Roost's own error shape.
import type { FieldProblem } from '../errors/index.js'
import { ValidationError } from '../errors/index.js'

export const SPEC_VERSION = '1.0'

export type ExtensionValue = string | number | boolean

export interface CloudEventAttributes {
  specversion: typeof SPEC_VERSION
  id: string
  source: string
  type: string
  datacontenttype?: string
  dataschema?: string
  subject?: string
  /** RFC 3339. */
  time?: string
  extensions: Record<string, ExtensionValue>
}

export const REQUIRED_ATTRIBUTES = ['id', 'source', 'specversion', 'type'] as const
export const OPTIONAL_ATTRIBUTES = ['datacontenttype', 'dataschema', 'subject', 'time'] as const
const CONTEXT_ATTRIBUTES = new Set<string>([...REQUIRED_ATTRIBUTES, ...OPTIONAL_ATTRIBUTES])
// `data` and `data_base64` are the structured format's members for the payload, never attributes.
const RESERVED_NAMES = new Set(['data', 'data_base64'])
const EXTENSION_NAME = /^[a-z0-9]+$/
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/ // eslint-disable-line no-control-regex

/** A problem with an extension attribute's name, or null; `field` is how the caller shows it. */
export function extensionNameProblem (name: string, field: string): FieldProblem | null {
  if (!EXTENSION_NAME.test(name)) {
    return { field, message: `attribute name ${JSON.stringify(name)} must be lower-case letters and digits only (CloudEvents)` }
  }
  if (CONTEXT_ATTRIBUTES.has(name) || RESERVED_NAMES.has(name)) {
    return { field, message: `${JSON.stringify(name)} is a CloudEvents attribute of its own, not an extension` }
  }
  return null
}

/**
 * Checks the attributes as read from a request (header values or JSON members)
 * and returns them typed; every problem found is reported at once.
 * `fieldOf` names an attribute as the request spelled it (ce-id, or id).
 */
export function validateAttributes (raw: Record<string, unknown>, fieldOf: (name: string) => string): CloudEventAttributes {
  const problems: FieldProblem[] = []
  const text = (name: string, required: boolean): string | undefined => {
    const value = raw[name]
    if (value === undefined) {
      if (required) problems.push({ field: fieldOf(name), message: `the CloudEvents attribute ${name} is required` })
      return undefined
    }
    if (typeof value !== 'string' || value.length === 0) {
      problems.push({ field: fieldOf(name), message: `${name} must be a non-empty string` })
      return undefined
    }
    return value
  }
  const specversion = text('specversion', true)
  if (specversion !== undefined && specversion !== SPEC_VERSION) {
    problems.push({ field: fieldOf('specversion'), message: `specversion ${JSON.stringify(specversion)} is not supported; Roost reads CloudEvents 1.0` })
  }
  const id = text('id', true)
  const source = text('source', true)
  if (source !== undefined && WHITESPACE_OR_CONTROL.test(source)) {
    problems.push({ field: fieldOf('source'), message: 'source must be a URI-reference (no spaces or control characters)' })
  }
  const type = text('type', true)
  const datacontenttype = text('datacontenttype', false)
  const dataschema = text('dataschema', false)
  if (dataschema !== undefined && !URL.canParse(dataschema)) {
    problems.push({ field: fieldOf('dataschema'), message: 'dataschema must be an absolute URI' })
  }
  const subject = text('subject', false)
  const time = text('time', false)
  if (time !== undefined && (!RFC3339.test(time) || Number.isNaN(Date.parse(time)))) {
    problems.push({ field: fieldOf('time'), message: `time ${JSON.stringify(time)} is not an RFC 3339 timestamp` })
  }
  const extensions: Record<string, ExtensionValue> = {}
  for (const [name, value] of Object.entries(raw)) {
    if (CONTEXT_ATTRIBUTES.has(name)) continue
    const problem = extensionNameProblem(name, fieldOf(name))
    if (problem !== null) {
      problems.push(problem)
    } else if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value))) {
      extensions[name] = value
    } else {
      problems.push({ field: fieldOf(name), message: `extension ${name} must be a string, an integer or a boolean` })
    }
  }
  if (problems.length > 0) throw new ValidationError(problems, { hint: 'a CloudEvent needs id, source, specversion "1.0" and type; see https://cloudevents.io' })
  const attributes: CloudEventAttributes = { specversion: SPEC_VERSION, id: id as string, source: source as string, type: type as string, extensions }
  if (datacontenttype !== undefined) attributes.datacontenttype = datacontenttype
  if (dataschema !== undefined) attributes.dataschema = dataschema
  if (subject !== undefined) attributes.subject = subject
  if (time !== undefined) attributes.time = time
  return attributes
}
