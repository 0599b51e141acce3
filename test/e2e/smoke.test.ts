import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TestPlatform, manifest, writeProject } from '../helpers/platform.js'

test('a function applied from a manifest answers through the gateway', async (t) => {
  const platform = await TestPlatform.start()
  t.after(() => platform.stop())
  const dir = writeProject({
    'hi.ts': 'export default (req: Request) => new Response("hi " + new URL(req.url).pathname)',
    'roost.yaml': manifest('hi', 'source: ./hi.ts')
  })
  const applied = await platform.cli(['apply', '-f', `${dir}/roost.yaml`])
  assert.equal(applied.code, 0, applied.stderr)
  assert.match(applied.stdout, /^function\/hi created/)
  const response = await platform.fetch('/fn/hi/there')
  assert.equal(response.status, 200)
  assert.equal(await response.text(), 'hi /there')
})
