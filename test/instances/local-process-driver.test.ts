import { LocalProcessDriver } from '../../src/instances/index.js'
import { driverContract } from './driver-contract.js'
import { fakeRuntimeDriver } from './fixtures.js'

driverContract('local processes, the runtime host (uid per namespace, cgroups)', () => new LocalProcessDriver())
driverContract('local processes, the runtime host (permission model, measured RSS)', () => new LocalProcessDriver({ switchUids: false, cgroups: false }))
driverContract('local processes, the runtime host (no sandbox: isolation off, as the bench measures it)', () => new LocalProcessDriver({ switchUids: false, cgroups: false, permissionModel: false }))
driverContract('local processes, the stand-in runtime (uid per namespace, cgroups)', () => fakeRuntimeDriver())
