import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { corkFrameWrites } from '../../src/connectors/rabbit-corked-writes.js'

test('a loop of frame writes goes to the socket corked, in order, and the patch is made once', async () => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const [peer] = await accepted
  try {
    const corkedDuring: number[] = []
    const muxer = {
      _readIncoming () {
        for (const frame of ['a', 'b', 'c']) {
          corkedDuring.push(socket.writableCorked)
          socket.write(frame)
        }
      }
    }
    const connection = { muxer, stream: socket }
    assert.equal(corkFrameWrites(connection), true)
    assert.equal(corkFrameWrites(connection), true)
    let received = ''
    peer.on('data', (chunk: Buffer) => { received += chunk.toString('latin1') })
    muxer._readIncoming()
    assert.deepEqual(corkedDuring, [1, 1, 1], 'corked once, not twice')
    assert.equal(socket.writableCorked, 0)
    while (received.length < 3) await once(peer, 'data')
    assert.equal(received, 'abc')
  } finally {
    socket.destroy()
    peer.destroy()
    server.close()
  }
})

test('a connection without amqplib\'s multiplexer or socket is left alone', () => {
  for (const connection of [undefined, {}, { muxer: {}, stream: {} }, { muxer: { _readIncoming () {} }, stream: {} }]) {
    assert.equal(corkFrameWrites(connection), false)
  }
})
