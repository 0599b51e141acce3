// The runtime host as a real child process, spawned as the instance manager
// does, driven by a small peer over its real fd 3 and Unix socket.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, chmodSync, existsSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { FrameType } from '../../src/wire/index.js'
import { until } from '../helpers/wait.js'
import { HostPeer, header, loadedHost as loaded, logLines } from './host-peer.js'

test('a request is refused before load and served after it, with its content-length', async (t) => {
  const host = new HostPeer({ warm: true })
  t.after(() => host.dispose())
  const secret = await host.secret()
  assert.match(secret, /^[0-9a-f]{64}$/)
  const peer = await host.connect(secret)
  peer.request(1, {})
  assert.equal((await peer.answer(1)).end, 'refused')
  assert.equal((await host.load('export default (req) => new Response(`hello ${process.env.GREETING} ${new URL(req.url).pathname}`)')).t, 'ready')
  peer.request(3, { url: '/x' })
  const answer = await peer.answer(3)
  assert.equal(answer.head?.status, 200)
  assert.equal(answer.body, 'hello hi /x')
  assert.equal(header(answer.head, 'content-length'), '11')
  peer.request(5, { method: 'HEAD', url: '/abc' })
  const head = await peer.answer(5)
  assert.equal(header(head.head, 'content-length'), '13', 'HEAD: the length a GET would have')
  assert.equal(head.body, '')
})

test('a data connection needs the secret in a Hello first, within a second', async (t) => {
  const host = new HostPeer()
  t.after(() => host.dispose())
  const secret = await host.secret()
  const wrong = await host.connect('0'.repeat(64))
  await until(() => wrong.closed, 'the wrong secret to close the connection')
  const silent = await host.connect()
  await until(() => silent.closed, 'a connection without Hello to close', 5000)
  const early = await host.connect()
  early.request(1, {})
  await until(() => early.closed, 'a request before Hello to close the connection')
  assert.equal(early.frames.length, 0)
  const right = await host.connect(secret)
  right.request(1, {})
  assert.equal((await right.answer(1)).end, 'refused', 'the right secret opens the connection')
})

test('a malformed frame from the data peer ends that connection only', async (t) => {
  const host = await loaded(t, 'export default () => new Response("ok")')
  const secret = await host.secret()
  const bad = await host.connect(secret)
  bad.writer.frame(FrameType.Response, 1, Buffer.from([0, 200, 0, 0]))
  await until(() => bad.closed, 'a Response frame from the gateway to close the connection')
  const garbage = await host.connect(secret)
  garbage.socket.write(Buffer.from([0, 0, 0, 1, 2, 3, 4, 5, 6]))
  await until(() => garbage.closed, 'a short length to close the connection')
  const head = await host.connect(secret)
  head.writer.frame(FrameType.Request, 1, Buffer.from([1, 2, 3]))
  await until(() => head.closed, 'a truncated head to close the connection')
  const good = await host.connect(secret)
  good.request(1, {})
  assert.equal((await good.answer(1)).body, 'ok')
  assert.equal(host.exit, null)
})

test('a request body streams in, and the answer may stream out as it is read', async (t) => {
  const host = await loaded(t, `export default async (req) => {
    if (req.method === 'PUT') return new Response(req.body)
    return new Response((await req.text()).toUpperCase())
  }`)
  const peer = await host.connect(await host.secret())
  peer.request(1, { method: 'POST', body: 'shout' })
  assert.equal((await peer.answer(1)).body, 'SHOUT')
  peer.request(3, { method: 'PUT', endBody: false })
  peer.writer.body(FrameType.RequestBody, 3, Buffer.from('first '))
  await peer.until((frames) => frames.some((f) => f.stream === 3 && f.type === FrameType.ResponseBody), 'the first echoed chunk')
  peer.writer.body(FrameType.RequestBody, 3, Buffer.from('second'))
  peer.writer.frame(FrameType.RequestEnd, 3)
  assert.equal((await peer.answer(3)).body, 'first second')
})

test('a streamed response: head and first event arrive while the handler waits for its second', async (t) => {
  const host = await loaded(t, `export default () => new Response(new ReadableStream({
    start (c) { c.enqueue(new TextEncoder().encode('data: one\\n\\n')) }
  }), { headers: { 'content-type': 'text/event-stream' } })`)
  const peer = await host.connect(await host.secret())
  peer.request(1, {})
  await peer.until((frames) => frames.some((f) => f.stream === 1 && f.type === FrameType.ResponseBody), 'the first event')
  const frames = peer.framesOf(1)
  assert.deepEqual(frames.map((f) => f.type), [FrameType.Response, FrameType.ResponseBody])
  assert.equal(frames[1].payload.toString(), 'data: one\n\n')
})

test('Cancel stops the handler\'s stream, aborts its signal, and nothing more is sent for it', async (t) => {
  const host = await loaded(t, `export default (req) => {
    req.signal.addEventListener('abort', () => console.log('signal aborted'))
    let timer
    return new Response(new ReadableStream({
      start (c) { c.enqueue(new TextEncoder().encode('tick')); timer = setInterval(() => c.enqueue(new TextEncoder().encode('tick')), 20) },
      cancel () { clearInterval(timer); console.log('stream cancelled') }
    }))
  }`)
  const peer = await host.connect(await host.secret())
  peer.request(1, { requestId: 'cancel-me' })
  await peer.until((frames) => frames.some((f) => f.stream === 1 && f.type === FrameType.ResponseBody), 'a first tick')
  peer.writer.frame(FrameType.Cancel, 1)
  await until(() => logLines(host).filter((l) => l.requestId === 'cancel-me').length === 2, 'both lines of the cancelled request')
  const count = peer.framesOf(1).length
  peer.request(3, { requestId: 'next' })
  await peer.until((frames) => frames.some((f) => f.stream === 3 && f.type === FrameType.ResponseBody), 'the next request answered')
  peer.writer.frame(FrameType.Cancel, 3)
  assert.equal(peer.framesOf(1).length, count, 'nothing sent for a cancelled stream')
  assert.equal(peer.framesOf(1).some((f) => f.type === FrameType.ResponseEnd || f.type === FrameType.Abort), false)
  assert.deepEqual(logLines(host).filter((l) => l.requestId === 'cancel-me').map((l) => l.message).sort(), ['signal aborted', 'stream cancelled'])
})

test('Pause holds a response body back until Resume', async (t) => {
  const host = await loaded(t, `export default (req) => {
    if (new URL(req.url).pathname === '/ping') return new Response('pong')
    let sent = 0
    const chunk = new Uint8Array(64 * 1024).fill(97)
    return new Response(new ReadableStream({
      pull (c) { if (sent++ < 160) c.enqueue(chunk); else c.close() }
    }, { highWaterMark: 0 }))
  }`)
  const peer = await host.connect(await host.secret())
  const total = 160 * 64 * 1024
  const received = (): number => peer.framesOf(1).filter((f) => f.type === FrameType.ResponseBody).reduce((sum, f) => sum + f.payload.length, 0)
  // The Pause leaves in the same write as the request: it lands before the first chunk is pulled.
  peer.request(1, { url: '/big' })
  peer.writer.frame(FrameType.Pause, 1)
  await peer.until((frames) => frames.some((f) => f.stream === 1 && f.type === FrameType.ResponseBody), 'the chunk on its way when the Pause landed')
  // A later request answered in full shows the host went on working meanwhile, without stream 1.
  peer.request(3, { url: '/ping' })
  assert.equal((await peer.answer(3)).body, 'pong')
  assert.equal(received(), 64 * 1024, 'one chunk, no more, while paused')
  peer.writer.frame(FrameType.Resume, 1)
  const answer = await peer.answer(1)
  assert.equal(answer.end, 'end')
  assert.equal(received(), total)
})

test('a request body the handler does not read is paused, and resumed once it reads', async (t) => {
  const host = await loaded(t, `export default async (req) => {
    await new Promise((resolve) => setTimeout(resolve, 300))
    return new Response(String((await req.arrayBuffer()).byteLength))
  }`)
  const peer = await host.connect(await host.secret())
  peer.request(1, { method: 'POST', endBody: false })
  const chunk = Buffer.alloc(256 * 1024, 1)
  for (let i = 0; i < 12; i++) peer.writer.body(FrameType.RequestBody, 1, chunk)
  await peer.until((frames) => frames.some((f) => f.stream === 1 && f.type === FrameType.Pause), 'a Pause of the request body')
  await peer.until((frames) => frames.some((f) => f.stream === 1 && f.type === FrameType.Resume), 'a Resume once the handler reads')
  peer.writer.frame(FrameType.RequestEnd, 1)
  assert.equal((await peer.answer(1)).body, String(12 * 256 * 1024))
})

test('every console line of a request carries its id, from the first request on, across awaits', async (t) => {
  const host = await loaded(t, `export default async (req, ctx) => {
    console.log('start')
    await new Promise((resolve) => setTimeout(resolve, 20))
    console.log('after await')
    ctx.log.info('from ctx')
    return new Response('ok')
  }`)
  const peer = await host.connect(await host.secret())
  for (let stream = 1; stream <= 9; stream += 2) peer.request(stream, { requestId: `cold-${stream}` })
  for (let stream = 1; stream <= 9; stream += 2) await peer.answer(stream)
  await until(() => logLines(host).length >= 15, 'fifteen lines')
  const lines = logLines(host)
  for (let stream = 1; stream <= 9; stream += 2) {
    assert.deepEqual(lines.filter((l) => l.requestId === `cold-${stream}`).map((l) => l.message), ['start', 'after await', 'from ctx'])
  }
  assert.equal(lines.filter((l) => l.requestId === null).length, 0)
})

test('a handler that throws or returns no Response gets a 500 problem with the request id', async (t) => {
  const host = await loaded(t, `export default (req) => {
    if (req.url.endsWith('/throw')) throw new Error('boom')
    if (req.url.endsWith('/huge')) return new Response(new ReadableStream(), { headers: { ['x'.repeat(70000)]: 'v' } })
    return 'not a response'
  }`)
  const peer = await host.connect(await host.secret())
  peer.request(1, { url: '/throw', requestId: 'r-throw' })
  peer.request(3, { url: '/string', requestId: 'r-string' })
  const thrown = await peer.answer(1)
  const wrong = await peer.answer(3)
  assert.equal(thrown.head?.status, 500)
  assert.equal((JSON.parse(thrown.body) as { requestId: string }).requestId, 'r-throw')
  assert.match(wrong.body, /a string instead of a Response/)
  peer.request(5, { url: '/huge' })
  const huge = await peer.answer(5)
  assert.equal(huge.head?.status, 500, 'a head no frame can carry becomes a 500, not a broken connection')
  assert.equal(peer.closed, false)
  await until(() => logLines(host).some((l) => l.requestId === 'r-throw' && /boom/.test(l.message)), 'the error in the logs')
})

test('a stream that fails after its head is aborted', async (t) => {
  const host = await loaded(t, `export default () => new Response(new ReadableStream({
    start (c) { c.enqueue(new TextEncoder().encode('part')); setTimeout(() => c.error(new Error('midway')), 20) }
  }))`)
  const peer = await host.connect(await host.secret())
  peer.request(1, {})
  const answer = await peer.answer(1)
  assert.equal(answer.end, 'abort')
  assert.equal(answer.body, 'part')
  assert.match(peer.framesOf(1).find((f) => f.type === FrameType.Abort)?.payload.toString() ?? '', /midway/)
})

test('ping: a pong with event-loop utilisation and CPU time', async (t) => {
  const host = new HostPeer()
  t.after(() => host.dispose())
  await host.secret()
  host.send({ t: 'ping', id: 7 })
  const pong = await host.message('pong')
  assert.equal(pong.id, 7)
  assert.ok(pong.elu >= 0 && pong.elu <= 1, String(pong.elu))
  assert.ok(Number.isInteger(pong.cpuUs) && pong.cpuUs > 0)
})

test('drain: GoAway, the last requests served, drained once the gateway closed, then exit', async (t) => {
  const host = await loaded(t, `export default async (req) => {
    await new Promise((resolve) => setTimeout(resolve, 200))
    return new Response('late ' + new URL(req.url).pathname)
  }`)
  const peer = await host.connect(await host.secret())
  peer.request(1, { url: '/a' })
  await new Promise((resolve) => setTimeout(resolve, 20))
  host.send({ t: 'drain' })
  await peer.until((frames) => frames.some((f) => f.type === FrameType.GoAway && f.stream === 0), 'GoAway')
  // A request the gateway sent before it saw GoAway is still served.
  peer.request(3, { url: '/b' })
  assert.equal((await peer.answer(1)).body, 'late /a')
  assert.equal((await peer.answer(3)).body, 'late /b')
  await assert.rejects(new Promise((resolve, reject) => {
    const socket = connect(host.socketPath)
    socket.once('connect', () => { socket.destroy(); resolve(undefined) })
    socket.once('error', reject)
  }), 'no new connection while draining')
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(host.messages.some((m) => m.t === 'drained'), false, 'not drained while the gateway holds the connection')
  assert.equal(host.exit, null)
  peer.close()
  await host.message('drained')
  assert.deepEqual(await host.exited(), { code: 0, signal: null })
})

test('the host exits when its control channel closes (the parent died)', async (t) => {
  const host = new HostPeer()
  t.after(() => host.dispose())
  await host.secret()
  host.closeControl()
  assert.deepEqual(await host.exited(), { code: 0, signal: null })
})

test('a module that throws at load: load-failed with the reason, then exit', async (t) => {
  const host = new HostPeer()
  t.after(() => host.dispose())
  const outcome = await host.load('throw new Error("bad module")')
  assert.equal(outcome.t, 'load-failed')
  assert.match((outcome as { reason: string }).reason, /bad module/)
  assert.equal((await host.exited()).code, 71)
  const other = new HostPeer()
  t.after(() => other.dispose())
  const wrongExport = await other.load('export default 42')
  assert.match((wrongExport as { reason: string }).reason, /default export must be a function/)
})

test('an uncaught exception in user code: the stack on stderr, exit 70', async (t) => {
  const host = await loaded(t, 'export default () => { setTimeout(() => { throw new Error("late crash") }, 1); return new Response("ok") }')
  const peer = await host.connect(await host.secret())
  peer.request(1, {})
  assert.equal((await host.exited()).code, 70)
  assert.match(host.stderr.join(''), /uncaught exception: Error: late crash/)
})

test('privileges are dropped before the bundle runs: no root file, no signal to the parent', async (t) => {
  const host = new HostPeer()
  t.after(() => host.dispose())
  const secretFile = join(host.dir, 'root-only.txt')
  writeFileSync(secretFile, 'root secret')
  chmodSync(secretFile, 0o600)
  const outcome = await host.load(`
    import { readFileSync } from 'node:fs'
    const attempt = (fn) => { try { fn(); return 'allowed' } catch (err) { return err.code } }
    const atLoad = { read: attempt(() => readFileSync(${JSON.stringify(secretFile)})), kill: attempt(() => process.kill(process.ppid, 0)) }
    export default () => Response.json({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), atLoad,
      read: attempt(() => readFileSync(${JSON.stringify(secretFile)})), kill: attempt(() => process.kill(process.ppid, 0)) })
  `, { uid: 65534, gid: 65534 })
  assert.equal(outcome.t, 'ready')
  const peer = await host.connect(await host.secret())
  peer.request(1, {})
  const seen = JSON.parse((await peer.answer(1)).body) as Record<string, unknown>
  assert.deepEqual(seen, { uid: 65534, gid: 65534, groups: [65534], atLoad: { read: 'EACCES', kill: 'EPERM' }, read: 'EACCES', kill: 'EPERM' })
})

test('a privilege drop that fails is a load-failed, and the bundle never runs', async (t) => {
  const host = new HostPeer()
  t.after(() => host.dispose())
  const marker = join(host.dir, 'ran')
  const outcome = await host.load(`import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'ran'); export default () => new Response('x')`, { uid: 2 ** 32, gid: 2 ** 32 })
  assert.equal(outcome.t, 'load-failed')
  assert.match((outcome as { reason: string }).reason, /could not drop privileges/)
  assert.equal(existsSync(marker), false)
})

test('many interleaved streams on one connection each get their own answer', async (t) => {
  const host = await loaded(t, `export default async (req) => {
    const body = await req.text()
    await new Promise((resolve) => setTimeout(resolve, body.length % 7))
    return new Response(req.headers.get('x-n') + ':' + body.length + ':' + body.slice(0, 8))
  }`)
  const peer = await host.connect(await host.secret())
  const expected = new Map<number, string>()
  for (let n = 0; n < 200; n++) {
    const stream = 2 * n + 1
    const body = String(n).repeat(1 + (n * 37) % 5000)
    expected.set(stream, `${n}:${body.length}:${body.slice(0, 8)}`)
    peer.request(stream, { method: 'POST', headers: ['host', 'h', 'x-n', String(n)], endBody: false })
  }
  // Bodies arrive interleaved, in two halves each, across streams.
  for (const half of [0, 1]) {
    for (let n = 0; n < 200; n++) {
      const body = Buffer.from(String(n).repeat(1 + (n * 37) % 5000))
      const middle = body.length >> 1
      peer.writer.body(FrameType.RequestBody, 2 * n + 1, half === 0 ? body.subarray(0, middle) : body.subarray(middle))
      if (half === 1) peer.writer.frame(FrameType.RequestEnd, 2 * n + 1)
    }
  }
  for (const [stream, text] of expected) assert.equal((await peer.answer(stream)).body, text, `stream ${stream}`)
})

test('frames for a stream already answered are ignored, and RequestEnd after a bodiless request is accepted', async (t) => {
  const host = await loaded(t, 'export default () => new Response("fine")')
  const peer = await host.connect(await host.secret())
  peer.request(1, {})
  peer.writer.frame(FrameType.RequestEnd, 1)
  assert.equal((await peer.answer(1)).body, 'fine')
  peer.writer.frame(FrameType.Cancel, 1)
  peer.writer.frame(FrameType.Pause, 99)
  peer.writer.body(FrameType.RequestBody, 1, Buffer.from('late'))
  peer.request(3, {})
  assert.equal((await peer.answer(3)).body, 'fine')
  assert.equal(peer.closed, false)
  // A second Request on an open stream is a protocol error.
  const slow = await loaded(t, 'export default () => new Promise(() => {})')
  const other = await slow.connect(await slow.secret())
  other.request(1, {})
  other.request(1, {})
  await until(() => other.closed, 'a duplicate stream to close the connection')
})

test('a connection that closes under open requests cancels them', async (t) => {
  const host = await loaded(t, `export default (req) => new Promise((resolve) => {
    req.signal.addEventListener('abort', () => { console.log('aborted:', req.signal.reason.message); resolve(new Response('too late')) })
  })`)
  const peer = await host.connect(await host.secret())
  peer.request(1, { requestId: 'orphan' })
  await new Promise((resolve) => setTimeout(resolve, 50))
  peer.socket.destroy()
  await until(() => logLines(host).some((l) => l.requestId === 'orphan'), 'the abort to be logged')
  assert.match(logLines(host).find((l) => l.requestId === 'orphan')?.message ?? '', /the gateway closed the connection/)
  assert.equal(host.exit, null)
})
