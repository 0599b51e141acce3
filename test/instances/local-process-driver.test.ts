import { driverContract } from './driver-contract.js'
import { testDriver } from './fixtures.js'

driverContract('local processes (uid per namespace, cgroups)', () => testDriver())
driverContract('local processes (permission model, measured RSS)', () => testDriver({ switchUids: false, cgroups: false }))
