/**
 * The peer sent bytes that are not a valid frame or message. The connection
 * (and the process behind it, if it is an instance) cannot be trusted any
 * further; the caller ends it. `code` is stable.
 */
export class WireError extends Error {
  readonly code: 'ROOST_E_WIRE_FRAME_TOO_LARGE' | 'ROOST_E_WIRE_MALFORMED'

  constructor (code: WireError['code'], message: string) {
    super(message)
    this.name = 'WireError'
    this.code = code
  }
}
