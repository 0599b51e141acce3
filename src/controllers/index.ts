export { FunctionController, functionOf } from './function-controller.js'
export type { FunctionControllerOptions, InstanceTargets, RoutingSink, ScaleOwner, StartFailure, StoredFunction } from './function-controller.js'
export { BundleFiles } from './bundle-files.js'
