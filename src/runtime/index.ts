// The runtime's public face for the rest of the platform: the protocol types
// and where the entry points live. Nothing here may import other parts.
import { fileURLToPath } from 'node:url'

export * from './protocol.js'

/** Absolute path of the script an instance process runs (control channel on fd 3, data socket at $ROOST_RUNTIME_SOCKET). */
export const RUNTIME_HOST_ENTRY = fileURLToPath(new URL('./host.js', import.meta.url))

/** Absolute path of the runtime as a plain HTTP server: `node RUNTIME_SERVE_ENTRY --bundle FILE --port N [--host H]`. */
export const RUNTIME_SERVE_ENTRY = fileURLToPath(new URL('./serve.js', import.meta.url))
