import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rewriteLocation } from '../../src/gateway/location.js'

// The Location rule, case by case (README: "Redirects").

test('path-absolute locations go back under the prefix, unless already there', () => {
  assert.equal(rewriteLocation('/echo', '/fn/f', 'h'), '/fn/f/echo')
  assert.equal(rewriteLocation('/', '/fn/f', 'h'), '/fn/f/')
  assert.equal(rewriteLocation('/echo?a=1#x', '/api', 'h'), '/api/echo?a=1#x')
  assert.equal(rewriteLocation('/fn/f', '/fn/f', 'h'), '/fn/f')
  assert.equal(rewriteLocation('/fn/f/x', '/fn/f', 'h'), '/fn/f/x')
  assert.equal(rewriteLocation('/fn/fx', '/fn/f', 'h'), '/fn/f/fn/fx', 'a prefix match must end at a boundary')
})

test('absolute locations on the request\'s host go back under the prefix; others are left alone', () => {
  assert.equal(rewriteLocation('http://h:8080/echo', '/fn/f', 'h:8080'), 'http://h:8080/fn/f/echo')
  assert.equal(rewriteLocation('HTTPS://H:8080/echo', '/fn/f', 'h:8080'), 'HTTPS://H:8080/fn/f/echo')
  assert.equal(rewriteLocation('http://h:8080', '/fn/f', 'h:8080'), 'http://h:8080/fn/f/')
  assert.equal(rewriteLocation('http://h:8080?q', '/fn/f', 'h:8080'), 'http://h:8080/fn/f/?q')
  assert.equal(rewriteLocation('http://h:8080/fn/f/x', '/fn/f', 'h:8080'), 'http://h:8080/fn/f/x')
  assert.equal(rewriteLocation('http://other/echo', '/fn/f', 'h:8080'), 'http://other/echo')
  assert.equal(rewriteLocation('http://h:8080/echo', '/fn/f', undefined), 'http://h:8080/echo')
  assert.equal(rewriteLocation('//h:8080/echo', '/fn/f', 'h:8080'), '//h:8080/echo')
  assert.equal(rewriteLocation('echo', '/fn/f', 'h'), 'echo')
  assert.equal(rewriteLocation('../up', '/fn/f', 'h'), '../up')
  assert.equal(rewriteLocation('mailto:x@y', '/fn/f', 'h'), 'mailto:x@y')
})
