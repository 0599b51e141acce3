// The invocations part: the control plane's handlers of what the gateway
// hands over (a function's publish, an async call), the format of an
// invocation record and its delivery, the result of a finished one, and the
// X-Callback-Url sender and spec.async's destinations. The dispatcher (delivery of records) uses
// invocationDelivery, sendInvocationCallback and AsyncInvocations.settled.
export { AsyncInvocations, locationOf } from './async-invocations.js'
export type { AsyncInvocationsOptions, DestinationOutcome } from './async-invocations.js'
export { describeDestination, hopsOf, HOPS_ATTRIBUTE, MAX_DESTINATION_HOPS, routeResult } from './result-destination.js'
export type { DestinationRoute, ResultDestination, ResultDestinations } from './result-destination.js'
export { ASYNC_QUEUE_POLICY, asyncQueueName, declareAsyncQueue, functionOfAsyncQueue, isAsyncQueue } from './async-queue.js'
export { sendInvocationCallback, callbackHeaders } from './callback-sender.js'
export type { CallbackOptions, CallbackOutcome } from './callback-sender.js'
export { errorAnswer, jsonAnswer, problemAnswer } from './control-answers.js'
export { encodeBody, invocationResult, isFinal } from './invocation-result.js'
export type { EncodedBody, InvocationResult } from './invocation-result.js'
export { answerPublish, answerQueuePublish, recordsOf, MAX_PUBLISH_BATCH } from './publish-handler.js'
export type { BrokerPublisher, PublishHooks } from './publish-handler.js'
export { invocationDelivery, readStoredRequest, storedRequestOf, STORED_REQUEST_VERSION } from './stored-request.js'
export type { InvocationDelivery, StoredRequest } from './stored-request.js'
