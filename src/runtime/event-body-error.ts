/** A delivery's body is not what docs/event-delivery.md says: answered 400 with the field at fault. */
export class EventBodyError extends Error {
  readonly code = 'ROOST_E_BAD_REQUEST'
  readonly status = 400

  constructor (message: string, readonly field: string | undefined) {
    super(message)
  }
}
