// $ROOST_HOME: where a platform keeps its state and the CLI finds its platform.
// A part of its own so that every CLI command can read the config without
// loading the platform (fastify, SQLite, the gateway) that writes it.
export { resolveHome, readClientConfig, writeClientConfig, lockHome, isProcessAlive } from './home.js'
export type { RoostHome, ClientConfig } from './home.js'
export { secureHome } from './home-files.js'
export { raiseFileLimit, readFileLimit } from './fd-limit.js'
export type { FileLimit, FileLimitChange } from './fd-limit.js'
