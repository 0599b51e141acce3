// Acknowledgements over one reply subscription, against the real server on
// 127.0.0.1:4222: an answered request resolves, a subject nobody serves says
// so, one that never answers times out, and a closed connection fails what waits.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { ackRepliesOf } from '../../src/connectors/nats-ack-replies.js'
import { randomBytes } from 'node:crypto'

const SUBJECT = `roost-test-${randomBytes(4).toString('hex')}`
let nc: NatsConnection

before(async () => { nc = await connect({ servers: '127.0.0.1:4222' }) })
after(async () => { if (!nc.isClosed()) await nc.close() })

describe('AckReplies', () => {
  test('a request is answered; many at once each get their own answer', async () => {
    const served = nc.subscribe(`${SUBJECT}.echo`, { callback: (_err, msg) => { msg.respond(msg.data) } })
    await nc.flush()
    const replies = ackRepliesOf(nc, 5000)
    assert.equal(ackRepliesOf(nc, 5000), replies, 'one per connection')
    assert.deepEqual(await Promise.all(Array.from({ length: 50 }, () => replies.request(`${SUBJECT}.echo`, '+ACK'))), Array(50).fill('answered'))
    served.unsubscribe()
  })

  test('a subject nobody serves answers no-responders', async () => {
    assert.equal(await ackRepliesOf(nc, 5000).request(`${SUBJECT}.nobody`, '+ACK'), 'no-responders')
  })

  test('a request nobody answers times out', async () => {
    const silent = nc.subscribe(`${SUBJECT}.silent`, { callback: () => {} })
    await nc.flush()
    const other = await connect({ servers: '127.0.0.1:4222' })
    try {
      await assert.rejects(ackRepliesOf(other, 200).request(`${SUBJECT}.silent`, '+ACK'), { name: 'TimeoutError' })
    } finally {
      await other.close()
      silent.unsubscribe()
    }
  })

  test('closing the connection fails what waits, and a new connection gets a new one', async () => {
    const other = await connect({ servers: '127.0.0.1:4222' })
    const silent = nc.subscribe(`${SUBJECT}.held`, { callback: () => {} })
    await nc.flush()
    const replies = ackRepliesOf(other, 60_000)
    const waiting = replies.request(`${SUBJECT}.held`, '+ACK')
    await other.close()
    await assert.rejects(waiting)
    silent.unsubscribe()
  })
})
