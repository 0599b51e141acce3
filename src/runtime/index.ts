// The runtime's public face for the rest of the platform: the protocol types
// and where the host entry point lives. Nothing here may import other parts.
import { fileURLToPath } from 'node:url'

export * from './protocol.js'

/** Absolute path of the script an instance process runs. */
export const RUNTIME_HOST_ENTRY = fileURLToPath(new URL('./host.js', import.meta.url))
