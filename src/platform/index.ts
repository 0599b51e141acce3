export { Platform } from './platform.js'
export type { PlatformOptions } from './platform.js'
export { resolveHome, readClientConfig, writeClientConfig, lockHome } from './home.js'
export type { RoostHome, ClientConfig } from './home.js'
