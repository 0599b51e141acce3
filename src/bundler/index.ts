// build/: turns a function's source into a content-addressed ESM bundle.
export { bundleSource, bundleInline } from './bundle.js'
export type { BundleResult } from './bundle.js'
export { contentHash } from './content-hash.js'
