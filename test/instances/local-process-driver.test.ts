import { LocalProcessDriver } from '../../src/instances/index.js'
import { driverContract } from './driver-contract.js'

driverContract('local processes', () => new LocalProcessDriver())
