import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HostPeer, header } from './host-peer.js'

test('a request served after load, refused before', async (t) => {
  const host = new HostPeer()
  t.after(() => host.dispose())
  const secret = await host.secret()
  assert.match(secret, /^[0-9a-f]{64}$/)
  const peer = await host.connect(secret)
  peer.request(1, {})
  assert.equal((await peer.answer(1)).end, 'refused')
  const outcome = await host.load('export default (req) => new Response(`hello ${process.env.GREETING} ${new URL(req.url).pathname}`)')
  assert.equal(outcome.t, 'ready')
  peer.request(3, { url: '/x' })
  const answer = await peer.answer(3)
  assert.equal(answer.head?.status, 200)
  assert.equal(answer.body, 'hello hi /x')
  assert.equal(header(answer.head, 'content-length'), '11')
  assert.equal(answer.end, 'end')
})
