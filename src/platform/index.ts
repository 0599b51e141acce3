export { Platform } from './platform.js'
export type { PlatformOptions } from './platform.js'
