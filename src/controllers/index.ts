export { FunctionController, functionOf } from './function-controller.js'
export type { FunctionControllerOptions, RoutingSink, StoredFunction } from './function-controller.js'
export { BundleFiles } from './bundle-files.js'
