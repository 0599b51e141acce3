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
}

export type Handler = (req: Request, ctx: Context) => Response | Promise<Response>

export interface HandlerObject {
  fetch: Handler
}

export type FunctionModule = Handler | HandlerObject
