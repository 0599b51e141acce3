export { Platform } from './platform.js'
export type { EventHooks, PlatformOptions } from './platform.js'
