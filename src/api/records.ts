// The records the API serves besides functions: what `events` and `logs`
// return. Clients (the CLI) take these, not the store's row types, so that
// they depend on the API's contract only.

export interface EventItem {
  id: number
  /** ISO 8601. */
  time: string
  namespace: string
  kind: string
  name: string
  type: 'Normal' | 'Warning'
  reason: string
  message: string
}

export interface LogLineItem {
  id?: number
  /** Epoch ms. */
  time: number
  namespace: string
  function: string
  version: number
  instance: string
  requestId: string | null
  level: 'debug' | 'info' | 'warn' | 'error'
  stream: 'console' | 'ctx' | 'stdout' | 'stderr' | 'system'
  message: string
}
