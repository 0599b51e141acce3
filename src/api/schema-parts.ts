// Pieces every resource schema is made of: closed enums, names, and the
// patterns validation recognises a failing string by (and explains in words).

import { Type, type SchemaOptions } from '@sinclair/typebox'

export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
// A Kubernetes label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters.
export const LABEL_KEY_PATTERN = '^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'
// A lane's name, as a label value: OpenSergo's lanes are names such as "Gray".
export const LANE_NAME_PATTERN = '^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'
// A rule's route: `/foo`, `GET:/foo`, `/api/*` (governance/route-match.ts reads it).
export const ROUTE_PATTERN = '^([A-Za-z]+:)?/[^\\s?#]*$'
// An HTTP header name (RFC 9110 token).
export const HEADER_NAME_PATTERN = '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$'
export const PERCENT_PATTERN = '^\\d{1,3}(\\.\\d+)?%$'

// A closed set of strings as `enum` (one keyword, clean in editors) rather than anyOf of consts.
export function StringEnum<const T extends readonly string[]> (values: T, options: SchemaOptions) {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] })
}

export const DnsLabel = (description: string, options: SchemaOptions = {}) =>
  Type.String({ ...options, description, pattern: DNS_LABEL_PATTERN, maxLength: 63 })

export const closed = { additionalProperties: false } as const

export const LabelsSchema = (description: string) => Type.Record(
  Type.String(),
  Type.String({ description: 'Label value, at most 63 characters.', maxLength: 63 }),
  { description, propertyNames: { pattern: LABEL_KEY_PATTERN, maxLength: 317 } }
)
