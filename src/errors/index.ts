// Every failure Roost reports is one of these classes. Callers branch on `code`,
// never on message text; the API carries them as application/problem+json
// (RFC 9457) and the CLI as one line of cause and one line of hint.

export interface ProblemDetails {
  type: string
  title: string
  status: number
  detail: string
  code: string
  hint?: string
  field?: string
  line?: number
  column?: number
  requestId?: string
  errors?: FieldProblem[]
}

export interface FieldProblem {
  field: string
  message: string
}

export interface RoostErrorOptions {
  hint?: string
  field?: string
  cause?: unknown
}

/**
 * The `title` of a problem document: the same short text for a code wherever
 * it is answered (API, gateway, instance): `ROOST_E_INSTANCE_CRASHED` →
 * "Instance crashed". The runtime repeats this rule (it imports no other part).
 */
export function problemTitle (code: string): string {
  const words = code.replace(/^ROOST_E_/, '').toLowerCase().replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

export class RoostError extends Error {
  readonly code: string = 'ROOST_E_INTERNAL'
  readonly status: number = 500
  readonly hint: string | undefined
  readonly field: string | undefined

  constructor (message: string, options: RoostErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.hint = options.hint
    this.field = options.field
  }

  toProblem (): ProblemDetails {
    const problem: ProblemDetails = {
      type: `https://roost.dev/errors/${this.code}`,
      title: problemTitle(this.code),
      status: this.status,
      detail: this.message,
      code: this.code
    }
    if (this.hint !== undefined) problem.hint = this.hint
    if (this.field !== undefined) problem.field = this.field
    return problem
  }
}

// A manifest or API body does not match the resource schema.
export class ValidationError extends RoostError {
  override readonly code = 'ROOST_E_VALIDATION'
  override readonly status = 422
  readonly errors: FieldProblem[]

  constructor (errors: FieldProblem[], options: RoostErrorOptions = {}) {
    const first = errors[0]
    const message = first === undefined
      ? 'invalid input'
      : `${first.field === '' ? '' : first.field + ': '}${first.message}`
    super(message, { hint: 'fix the field named above; `roost apply --help` shows the manifest shape', field: first?.field, ...options })
    this.errors = errors
  }

  override toProblem (): ProblemDetails {
    return { ...super.toProblem(), errors: this.errors }
  }
}

// A YAML or JSON document could not be parsed at all.
export class ManifestParseError extends RoostError {
  override readonly code = 'ROOST_E_MANIFEST_PARSE'
  override readonly status = 400
  readonly line: number | undefined
  readonly column: number | undefined

  constructor (message: string, position: { file?: string, line?: number, column?: number } = {}) {
    const where = [position.file, position.line, position.column].filter((p) => p !== undefined).join(':')
    super(where === '' ? message : `${where}: ${message}`, { hint: 'check the YAML syntax at the position above' })
    this.line = position.line
    this.column = position.column
  }

  override toProblem (): ProblemDetails {
    const problem = super.toProblem()
    if (this.line !== undefined) problem.line = this.line
    if (this.column !== undefined) problem.column = this.column
    return problem
  }
}

// A dotenv file (`roost secret create --from-env-file`) has a line that is not KEY=VALUE.
export class EnvFileError extends RoostError {
  override readonly code = 'ROOST_E_ENV_FILE'
  override readonly status = 400
  readonly line: number

  constructor (message: string, position: { file: string, line: number }) {
    super(`${position.file}:${position.line}: ${message}`, { hint: 'each line is KEY=VALUE, a # comment or blank; a value may be in "double" or \'single\' quotes' })
    this.line = position.line
  }
}

// A manifest's kind or apiVersion is not one Roost serves.
export class UnknownKindError extends RoostError {
  override readonly code = 'ROOST_E_UNKNOWN_KIND'
  override readonly status = 422
}

// A function's source path escapes the folder of its manifest.
export class SourcePathError extends RoostError {
  override readonly code = 'ROOST_E_SOURCE_PATH'
  override readonly status = 422
}

// esbuild could not build the function's source.
export class BuildError extends RoostError {
  override readonly code = 'ROOST_E_BUILD'
  override readonly status = 422
}

// The named resource does not exist.
export class NotFoundError extends RoostError {
  override readonly code = 'ROOST_E_NOT_FOUND'
  override readonly status = 404
}

// A write lost an optimistic-concurrency race, or claims something another resource holds.
export class ConflictError extends RoostError {
  override readonly code = 'ROOST_E_CONFLICT'
  override readonly status = 409
}

// No or an unknown bearer token.
export class UnauthorizedError extends RoostError {
  override readonly code = 'ROOST_E_UNAUTHORIZED'
  override readonly status = 401
}

// A valid token that may not act on this namespace.
export class ForbiddenError extends RoostError {
  override readonly code = 'ROOST_E_FORBIDDEN'
  override readonly status = 403
}

// A request body is larger than the limit.
export class PayloadTooLargeError extends RoostError {
  override readonly code = 'ROOST_E_PAYLOAD_TOO_LARGE'
  override readonly status = 413
}

// The API could not understand the request (bad JSON, missing body).
export class BadRequestError extends RoostError {
  override readonly code = 'ROOST_E_BAD_REQUEST'
  override readonly status = 400
}

// The instance serving a request died before answering it.
export class InstanceCrashedError extends RoostError {
  override readonly code = 'ROOST_E_INSTANCE_CRASHED'
  override readonly status = 502
}

// No instance of the function version could be started (its module fails to load, it exits at once).
export class StartFailedError extends RoostError {
  override readonly code = 'ROOST_E_START_FAILED'
  override readonly status = 502
}

// The function did not answer within its timeout.
export class TimeoutError extends RoostError {
  override readonly code = 'ROOST_E_TIMEOUT'
  override readonly status = 504
}

// The function's queue of waiting requests is full.
export class OverloadedError extends RoostError {
  override readonly code = 'ROOST_E_OVERLOADED'
  override readonly status = 503
}

// The handler threw or returned something that is not a Response.
export class HandlerError extends RoostError {
  override readonly code = 'ROOST_E_HANDLER'
  override readonly status = 500
}

// The gateway failed on its own account while dispatching a request (not the instance's fault).
export class GatewayError extends RoostError {
  override readonly code = 'ROOST_E_GATEWAY'
  override readonly status = 500
}

// An instance sent the gateway bytes that break the data protocol; the instance is ended.
export class InstanceProtocolError extends RoostError {
  override readonly code = 'ROOST_E_INSTANCE_PROTOCOL'
  override readonly status = 502
}

// The gateway has no routing table yet, or no instance would start the request; comes with Retry-After.
export class NotReadyError extends RoostError {
  override readonly code = 'ROOST_E_NOT_READY'
  override readonly status = 503
}

// The request (its headers, or its body within its deadline) did not arrive in time.
export class RequestTimeoutError extends RoostError {
  override readonly code = 'ROOST_E_REQUEST_TIMEOUT'
  override readonly status = 408
}

// The request's headers are larger than the server accepts.
export class HeadersTooLargeError extends RoostError {
  override readonly code = 'ROOST_E_HEADERS_TOO_LARGE'
  override readonly status = 431
}

// An Expect header other than 100-continue.
export class ExpectationFailedError extends RoostError {
  override readonly code = 'ROOST_E_EXPECTATION_FAILED'
  override readonly status = 417
}

// A protocol upgrade (WebSocket) was asked for; the gateway does not support it yet.
export class UpgradeUnsupportedError extends RoostError {
  override readonly code = 'ROOST_E_UPGRADE_UNSUPPORTED'
  override readonly status = 501
}

// The server (gateway or API) holds as many connections as it allows, in total or from the caller's address.
export class TooManyConnectionsError extends RoostError {
  override readonly code = 'ROOST_E_TOO_MANY_CONNECTIONS'
  override readonly status = 503
}

// No function is routed at the requested path.
export class RouteNotFoundError extends RoostError {
  override readonly code = 'ROOST_E_ROUTE_NOT_FOUND'
  override readonly status = 404
}

// The platform could not start (port taken, home locked, ...).
export class StartupError extends RoostError {
  override readonly code = 'ROOST_E_STARTUP'
  override readonly status = 500
}

// The command line is wrong: unknown command, flag or missing argument.
export class UsageError extends RoostError {
  override readonly code = 'ROOST_E_USAGE'
  override readonly status = 400
}

// A value sealed in the store cannot be opened with the data key (another key, or the row was altered).
export class DataKeyError extends RoostError {
  override readonly code = 'ROOST_E_DATA_KEY'
  override readonly status = 500
}

// A queue holds its maximum depth of waiting and leased messages: the publish is refused whole; retry after retryAfterSeconds.
export class QueueFullError extends RoostError {
  override readonly code = 'ROOST_E_QUEUE_FULL'
  override readonly status = 429
  readonly retryAfterSeconds: number

  constructor (message: string, retryAfterSeconds: number, options: RoostErrorOptions = {}) {
    super(message, { hint: 'retry after the Retry-After delay, or raise the queue\'s maxDepth', ...options })
    this.retryAfterSeconds = retryAfterSeconds
  }
}

// An event record was settled with a lease it no longer holds (the lease expired and the record was delivered again, or it was settled already).
export class LeaseLostError extends RoostError {
  override readonly code = 'ROOST_E_LEASE_LOST'
  override readonly status = 409
}

// (gateway) A request that claims to be a CloudEvent (ce-specversion, or a CloudEvents Content-Type) breaks the spec: a required attribute missing or malformed.
export class InvalidCloudEventError extends RoostError {
  override readonly code = 'ROOST_E_INVALID_CLOUD_EVENT'
  override readonly status = 400
}

// An async invocation ended without success: every attempt failed, or it grew older than its maximum age before it ran.
export class InvocationFailedError extends RoostError {
  override readonly code = 'ROOST_E_INVOCATION_FAILED'
  override readonly status = 502
}

// An error the API answered, carried to the CLI with the API's code and hint.
export class ApiError extends RoostError {
  override readonly code: string
  override readonly status: number
  readonly problem: ProblemDetails

  constructor (problem: ProblemDetails) {
    super(problem.detail, { hint: problem.hint, field: problem.field })
    this.code = problem.code
    this.status = problem.status
    this.problem = problem
  }
}

// The CLI could not reach the platform's API.
export class ConnectionError extends RoostError {
  override readonly code = 'ROOST_E_CONNECTION'
  override readonly status = 503
}

export function isRoostError (err: unknown): err is RoostError {
  return err instanceof RoostError
}

// A queue trigger's broker cannot be reached (refused, lost, timed out); the connector retries with backoff.
export class BrokerUnavailableError extends RoostError {
  override readonly code = 'ROOST_E_BROKER_UNAVAILABLE'
  override readonly status = 503
  /** A publish refused for it says when to try again: about when the connector's next reconnect is due. */
  readonly retryAfterSeconds = 2
}

// The stream, consumer group or queue a trigger names is not on its broker, and the trigger does not ask to create it.
export class BrokerMissingError extends RoostError {
  override readonly code = 'ROOST_E_BROKER_MISSING'
  override readonly status = 404
}

// The broker lacks a feature the connector needs (too old a version, a plugin not enabled).
export class BrokerUnsupportedError extends RoostError {
  override readonly code = 'ROOST_E_BROKER_UNSUPPORTED'
  override readonly status = 501
}

// An async call's X-Callback-Url points at a loopback, private or link-local address and the platform does not allow such receivers.
export class CallbackRefusedError extends RoostError {
  override readonly code = 'ROOST_E_CALLBACK_REFUSED'
  override readonly status = 422
}
