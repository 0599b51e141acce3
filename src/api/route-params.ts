import type { FastifyRequest } from 'fastify'
import { ValidationError } from '../errors/index.js'
import { authorize, type Caller } from './auth.js'
import { DNS_LABEL_PATTERN } from './function-schema.js'

// Checks of path parameters shared by the route files that live beside server.ts.

const NAME = new RegExp(DNS_LABEL_PATTERN)

export function callerOf (request: FastifyRequest): Caller {
  return (request as unknown as { caller: Caller }).caller
}

/** A namespace from the path: a DNS label the caller may act on. */
export function checkedNamespace (request: FastifyRequest, namespace: string): string {
  checkName(namespace, 'namespace')
  authorize(callerOf(request), namespace)
  return namespace
}

export function checkName (value: string, field: string): void {
  if (value.length > 63 || !NAME.test(value)) {
    throw new ValidationError([{ field, message: `"${value}" is not a valid ${field}: use lower-case letters, digits and "-" (a DNS label, at most 63 characters)` }])
  }
}

export function intQuery (value: string | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0) throw new ValidationError([{ field, message: `expected a whole number, got "${value}"` }])
  return number
}

export function booleanQuery (value: string | undefined, field: string): boolean {
  if (value === undefined || value === 'false' || value === '0') return false
  if (value === 'true' || value === '1') return true
  throw new ValidationError([{ field, message: `expected true or false, got "${value}"` }])
}
