// Types of the Roost handler contract. A function module's default export is
// either a handler or an object with a `fetch` handler:
//
//   import type { Context } from '@roost/types'
//   export default async function (req: Request, ctx: Context): Promise<Response> {
//     return new Response(`hello from ${ctx.function.name}`)
//   }

export interface Logger {
  debug (...args: unknown[]): void
  info (...args: unknown[]): void
  warn (...args: unknown[]): void
  error (...args: unknown[]): void
}

export interface FunctionIdentity {
  readonly namespace: string
  readonly name: string
  readonly version: number
}

export interface Context {
  /** The id of this request, also in the `x-request-id` header and in `roost logs`. */
  readonly requestId: string
  /** Epoch milliseconds after which the caller has been answered 504. */
  readonly deadline: number
  /** Which function and version is running. */
  readonly function: FunctionIdentity
  /** Lines written here reach `roost logs`, tagged with the request id. */
  readonly log: Logger
  /** Milliseconds left before the deadline. */
  remainingMs (): number
  /**
   * Who called, as the function's `spec.http.auth` check found it: `key:<id>`,
   * `jwt:<sub>`, `hmac:<secret name>`, `fn:<namespace>/<name>` (another
   * function); null for a function any caller may call.
   */
  readonly caller: string | null
  /** The lane this request runs in (a lane rule matched it, or the calling function's request ran in it); null: none. */
  readonly lane: string | null
  /**
   * fetch() for calling other functions: a path such as `/fn/other` goes to the
   * gateway, and every call to the gateway carries this request's deadline, its
   * lane and the proof of which function calls (private functions take only
   * such calls). Other URLs are fetched as given.
   */
  fetch (input: string | URL | Request, init?: RequestInit): Promise<Response>
}

export type Handler = (req: Request, ctx: Context) => Response | Promise<Response>

export interface HandlerObject {
  fetch: Handler
}

export type FunctionModule = Handler | HandlerObject
