// What a user would run instead of Roost in front of a broker: a consumer
// written with the broker's own client (redis, @nats-io/jetstream, amqplib),
// acknowledging each message after a no-op handler. The brokers suite also
// publishes with these clients and reads each queue's backlog through them,
// so Roost's own connector measures nothing about itself.
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import amqp from 'amqplib'
import { createClient } from 'redis'
import { redisKeys } from '../src/connectors/redis-keys.js'

export type BrokerKind = 'redis' | 'nats' | 'rabbitmq'

/** A message as the bench publishes it: JSON with the publisher's clock, for latency. */
export interface BenchMessage {
  n: number
  /** performance.timeOrigin + performance.now() at publish (epoch ms, sub-ms). */
  sentAt: number
}

/** One queue of this run on one broker, by the names each broker uses. */
export interface BenchQueue {
  /** The stream key (Redis), the stream (NATS), the queue (RabbitMQ). */
  name: string
  /** NATS: the subject the stream takes. */
  subject: string
  /** Redis: the group; NATS: the durable consumer. */
  consumer: string
}

export interface PlainConsumer {
  /** Stops consuming and closes the consumer's connection. */
  close (): Promise<void>
}

/** The broker through its own client: publish, backlog, a plain consumer, cleanup. */
export interface BrokerClient {
  readonly kind: BrokerKind
  /** Creates the queue (and the group or durable consumer a plain consumer needs); `forRoost` leaves what the connector creates to it. */
  prepare (queue: BenchQueue, forRoost: boolean): Promise<void>
  /** Publishes `count` messages, pipelined, resolving once the broker has all of them. */
  publishMany (queue: BenchQueue, count: number): Promise<void>
  /** Publishes one message, resolving once the broker has it. */
  publishOne (queue: BenchQueue, message: BenchMessage): Promise<void>
  /** Messages waiting plus handed out and not acknowledged, as the broker counts them. */
  backlog (queue: BenchQueue): Promise<number>
  /** A consumer of `batch` messages at a time that calls `onMessage` and acknowledges; `inFlight`: how many a pushing broker (RabbitMQ's prefetch) may hand out ahead. */
  consume (queue: BenchQueue, batch: number, onMessage: (body: Uint8Array) => void, inFlight?: number): Promise<PlainConsumer>
  /** Removes what this run made on the broker for `queue`. */
  remove (queue: BenchQueue): Promise<void>
  close (): Promise<void>
}

const PUBLISH_WINDOW = 1000
const encoder = new TextEncoder()

function body (n: number, sentAt = 0): Uint8Array {
  return encoder.encode(JSON.stringify({ n, sentAt }))
}

export async function redisClient (url: string): Promise<BrokerClient> {
  const redis = createClient({ url })
  redis.on('error', () => {})
  await redis.connect()
  return {
    kind: 'redis',
    async prepare (queue) {
      await redis.xGroupCreate(queue.name, queue.consumer, '0', { MKSTREAM: true })
    },
    async publishMany (queue, count) {
      for (let at = 0; at < count; at += PUBLISH_WINDOW) {
        const multi = redis.multi()
        for (let n = at; n < Math.min(count, at + PUBLISH_WINDOW); n++) multi.xAdd(queue.name, '*', { body: Buffer.from(body(n)) as unknown as string })
        await multi.exec()
      }
    },
    async publishOne (queue, message) {
      await redis.xAdd(queue.name, '*', { body: JSON.stringify(message) })
    },
    async backlog (queue) {
      const groups = await redis.xInfoGroups(queue.name) as unknown as Array<{ name: string, pending: number, lag: number | null }>
      const group = groups.find((g) => g.name === queue.consumer)
      return group === undefined ? Number.NaN : Number(group.pending) + Number(group.lag ?? 0)
    },
    async consume (queue, batch, onMessage) {
      const reader = redis.duplicate()
      reader.on('error', () => {})
      await reader.connect()
      let running = true
      const loop = (async () => {
        while (running) {
          const reply = await reader.xReadGroup(queue.consumer, 'plain', { key: queue.name, id: '>' }, { COUNT: batch, BLOCK: 200 })
          if (reply === null) continue
          for (const stream of reply as Array<{ messages: Array<{ id: string, message: Record<string, string> }> }>) {
            const ids: string[] = []
            for (const entry of stream.messages) {
              onMessage(encoder.encode(entry.message.body))
              ids.push(entry.id)
            }
            if (ids.length > 0) await reader.xAck(queue.name, queue.consumer, ids)
          }
        }
      })()
      return {
        async close () {
          running = false
          await loop
          await reader.close()
        }
      }
    },
    async remove (queue) {
      // With the keys Roost's connector keeps beside the stream (delayed, released, dead).
      const keys = redisKeys(queue.name, queue.consumer)
      await redis.del([keys.stream, keys.delayed, keys.released, keys.dead])
    },
    async close () {
      await redis.close()
    }
  }
}

export async function natsClient (url: string): Promise<BrokerClient> {
  const nc: NatsConnection = await natsConnect({ servers: url.replace(/^nats:\/\//, '') })
  const js: JetStreamClient = jetstream(nc)
  const jsm: JetStreamManager = await jetstreamManager(nc)
  return {
    kind: 'nats',
    async prepare (queue, forRoost) {
      await jsm.streams.add({ name: queue.name, subjects: [queue.subject] })
      if (!forRoost) await jsm.consumers.add(queue.name, { durable_name: queue.consumer, ack_policy: AckPolicy.Explicit, filter_subject: queue.subject })
    },
    async publishMany (queue, count) {
      for (let at = 0; at < count; at += PUBLISH_WINDOW) {
        const acks: Array<Promise<unknown>> = []
        for (let n = at; n < Math.min(count, at + PUBLISH_WINDOW); n++) acks.push(js.publish(queue.subject, body(n)))
        await Promise.all(acks)
      }
    },
    async publishOne (queue, message) {
      await js.publish(queue.subject, JSON.stringify(message))
    },
    async backlog (queue) {
      try {
        const info = await jsm.consumers.info(queue.name, queue.consumer)
        return info.num_pending + info.num_ack_pending
      } catch (err) {
        // Roost's trigger makes its durable consumer when it starts: until then every message waits in the stream.
        if (!/consumer not found/i.test(String(err))) throw err
        return (await jsm.streams.info(queue.name)).state.messages
      }
    },
    async consume (queue, batch, onMessage) {
      const consumer = await js.consumers.get(queue.name, queue.consumer)
      const messages = await consumer.consume({ max_messages: batch })
      const loop = (async () => {
        for await (const m of messages) {
          onMessage(m.data)
          m.ack()
        }
      })()
      return {
        async close () {
          await messages.close()
          await loop
        }
      }
    },
    async remove (queue) {
      await jsm.streams.delete(queue.name).catch(() => false)
    },
    async close () {
      await nc.drain()
    }
  }
}

export async function rabbitClient (url: string): Promise<BrokerClient> {
  // Nagle's algorithm would hold each small publish and ack back ~40 ms behind a delayed ACK: a user tuning a consumer turns it off.
  const connection = await amqp.connect(url, { noDelay: true })
  const channel = await connection.createConfirmChannel()
  return {
    kind: 'rabbitmq',
    async prepare (queue, forRoost) {
      // Roost's connector declares its queue itself (a quorum queue with a delivery limit); the plain consumer gets the same kind of queue.
      if (!forRoost) await channel.assertQueue(queue.name, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    },
    async publishMany (queue, count) {
      for (let at = 0; at < count; at += PUBLISH_WINDOW) {
        for (let n = at; n < Math.min(count, at + PUBLISH_WINDOW); n++) channel.sendToQueue(queue.name, Buffer.from(body(n)), { persistent: true, contentType: 'application/json' })
        await channel.waitForConfirms()
      }
    },
    async publishOne (queue, message) {
      channel.sendToQueue(queue.name, Buffer.from(JSON.stringify(message)), { persistent: true, contentType: 'application/json' })
      await channel.waitForConfirms()
    },
    async backlog (queue) {
      // Ready messages only: AMQP does not report unacknowledged ones, at most the consumers' prefetch.
      return (await channel.checkQueue(queue.name)).messageCount
    },
    async consume (queue, batch, onMessage, inFlight) {
      const consumerChannel = await connection.createChannel()
      await consumerChannel.prefetch(inFlight ?? batch)
      await consumerChannel.consume(queue.name, (m) => {
        if (m === null) return
        onMessage(m.content)
        consumerChannel.ack(m)
      }, { noAck: false })
      return {
        async close () {
          await consumerChannel.close()
        }
      }
    },
    async remove (queue) {
      // What Roost's connector declares beside the queue (docs/connectors.md); its delay queues expire by themselves.
      for (const name of [queue.name, `${queue.name}.dead`]) await channel.deleteQueue(name)
      await channel.deleteExchange(`${queue.name}.dlx`)
    },
    async close () {
      await channel.close()
      await connection.close()
    }
  }
}
