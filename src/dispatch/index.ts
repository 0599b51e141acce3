// The dispatch part: the control plane's consumption side of events. The
// trigger controller declares the queues functions consume and hands their
// consumers to the dispatcher (lease, deliver through the gateway, settle)
// and their cron triggers to the scheduler (fire each time once, into an
// internal queue the dispatcher delivers from). docs/event-delivery.md is the contract.
export { Dispatcher } from './dispatcher.js'
export type { DispatcherHooks, DispatcherOptions } from './dispatcher.js'
export { CronScheduler, MAX_CATCH_UP_FIRINGS } from './cron-scheduler.js'
export type { CronSchedulerHooks, CronSchedulerOptions, CronTriggerView } from './cron-scheduler.js'
export { TriggerController } from './trigger-controller.js'
export { planTriggers, DELIVERY_MARGIN_MS } from './trigger-plan.js'
export { acknowledgedAll, settlementsFor, retryAfterMs, DEFAULT_RELEASE_DELAY_MS, START_FAILED_DELAY_MS } from './settlement.js'
export { inFlightLimit, nextBatchSize, nextFetchSize } from './capacity.js'
export { queueDeliveryBody, scheduledDeliveryBody } from './delivery-body.js'
export type { FiringBody } from './delivery-body.js'
export { queueLoads } from './queue-loads.js'
export type { ServedShare } from './queue-loads.js'
export { functionKey, queueKey } from './consumer.js'
export { BrokerTriggers } from './broker-triggers.js'
export type { BrokerTriggersDeps, BrokerTriggerState, BrokerTriggerStatus } from './broker-triggers.js'
export { BrokerConsumer, deadRecordId } from './broker-consumer.js'
export { brokerAction } from './broker-outcome.js'
export type { BrokerAction } from './broker-outcome.js'
export { queueDeliveryRequest } from './delivery-request.js'
export type { BrokerConsumerPlan, CronPlan, DeclaredQueue, DeliveryAnswer, DeliveryEvent, DeliveryFunction, DeliveryRequest, QueueConsumer, TriggerPlan } from './consumer.js'
