import assert from 'node:assert/strict'
import fc from 'fast-check'
import { chunked, get, Harness, LIMITS, ok } from './exchange-harness.ts'

describe('http message parsing (HttpExchange)', () => {
  it('pairs a request with its response; latency is first response byte minus request start', () => {
    const h = new Harness()
    h.request(get('/index.html'), 1_000_000n)
    h.response(ok('hi'), 3_500_000n)
    assert.deepEqual(h.summary, ['GET /index.html 200'])
    const [record] = h.records
    assert.deepEqual(record!.durationsSeconds, [0.0025])
    assert.equal(record!.protocolVersion, '1.1')
    assert.equal(record!.pathTruncated, false)
    assert.deepEqual([h.drops, h.errors], [[], []])
  })

  it('gives the same records when every message arrives one byte at a time', () => {
    const requests = get('/a') + `POST /b HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world` + get('/c')
    const responses = ok('first') + `HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n${chunked('created body', 5)}` +
      'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'
    const h = new Harness()
    for (let i = 0; i < requests.length; i++) h.request(requests.slice(i, i + 1), BigInt(i))
    for (let i = 0; i < responses.length; i++) h.response(responses.slice(i, i + 1), 1_000_000n + BigInt(i))
    assert.deepEqual(h.summary, ['GET /a 200', 'POST /b 201', 'GET /c 404'])
    assert.deepEqual([h.drops, h.errors], [[], []])
  })

  it('matches pipelined requests to responses in order, whatever the bodies hold', () => {
    const h = new Harness()
    h.request(get('/1') + get('/2') + get('/3') + 'DELETE /4 HTTP/1.0\r\n\r\n')
    // Bodies that look like messages must be skipped by length, not parsed.
    h.response(ok('HTTP/1.1 500 Oops\r\n\r\n') +
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${chunked('GET /x HTTP/1.1\r\n\r\nHTTP/1.1 302 Found\r\n\r\n', 7)}` +
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 999\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\n\r\n')
    assert.deepEqual(h.summary, ['GET /1 200', 'GET /2 200', 'GET /3 304', 'DELETE /4 204'])
    assert.equal(h.records[3]!.protocolVersion, '1.0')
    assert.deepEqual([h.drops, h.errors, h.exchange.pendingRequests], [[], [], 0])
  })

  it('frames HEAD responses, interim 100 Continue and a body that ends with the connection', () => {
    const h = new Harness()
    h.request('HEAD /h HTTP/1.1\r\n\r\n' + 'PUT /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc' + get('/last'))
    h.response('HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n' + 'HTTP/1.1 100 Continue\r\n\r\n' +
      'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n' + 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nread until the end')
    h.response('HTTP/1.1 999 this is still the body')
    assert.deepEqual(h.summary, ['HEAD /h 200', 'PUT /p 201', 'GET /last 200'])
    assert.deepEqual([h.drops, h.errors], [[], []])
  })

  it('records no query string and no userinfo; keeps the query only when asked; cuts long paths', () => {
    const h = new Harness()
    h.request(get('/login?user=bob&token=SECRET#frag') + 'GET http://alice:pw@proxy.test:8080/x?k=SECRET HTTP/1.1\r\n\r\n' +
      get('/' + 'p'.repeat(400)) + get('/short?' + 'q'.repeat(5000)))
    h.response(ok() + ok() + ok() + ok())
    assert.deepEqual(h.records.map((r) => [r.path, r.pathTruncated]), [
      ['/login', false], ['http://proxy.test:8080/x', false], ['/' + 'p'.repeat(149), true], ['/short', false],
    ])
    assert.ok(!JSON.stringify(h.records).includes('SECRET') && !JSON.stringify(h.records).includes('alice'))

    const keep = new Harness({ ...LIMITS, redactQuery: false })
    keep.request(get('/search?q=netlens#top'))
    keep.response(ok())
    assert.deepEqual(keep.summary, ['GET /search?q=netlens 200'])
  })

  it('never keeps Authorization or Cookie values, however long, and bounds enormous headers', () => {
    const h = new Harness()
    const cookie = 'c'.repeat(200_000)
    h.request(get('/a', `Authorization: Bearer SECRET\r\nCookie: ${cookie}\r\n`))
    h.response(ok())
    assert.deepEqual(h.summary, ['GET /a 200'])
    assert.ok(!JSON.stringify(h.records).includes('SECRET'))

    // Beyond maxHeaderBytes the block is not HTTP as netlens reads it: counted, then the next message is read.
    const huge = new Harness()
    huge.request(get('/big', `X-Filler: ${'x'.repeat(300_000)}\r\n`))
    huge.request(get('/after'))
    huge.response(ok() + ok())
    assert.deepEqual(huge.errors, ['headers_too_large'])
    assert.deepEqual(huge.summary, ['GET /big 200', 'GET /after 200'])
  })

  it('counts what is not HTTP/1.x and stops reading the connection', () => {
    const binary = new Harness()
    binary.request(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]))
    binary.request(get('/ignored'))
    binary.response(ok())
    assert.deepEqual([binary.errors, binary.summary], [['not_http'], []])

    const h2 = new Harness()
    h2.request('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
    assert.deepEqual(h2.errors, ['http2_preface'])

    const badStatus = new Harness()
    badStatus.request(get('/x'))
    badStatus.response('HTTP/1.1 2xx Weird\r\n\r\n')
    assert.deepEqual([badStatus.errors, badStatus.summary], [['bad_status_line'], []])
  })

  it('stops at 101 Switching Protocols: the websocket frames that follow are not parsed', () => {
    const h = new Harness()
    h.request(get('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\n') + '\x81\x85garbage')
    h.response('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello')
    assert.deepEqual([h.summary, h.errors, h.drops], [['GET /ws 101'], [], []])
  })

  it('skips a capture gap inside a body, and resynchronises on the next message after one in headers', () => {
    const h = new Harness()
    h.request(get('/1') + get('/2') + get('/3'))
    h.response('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nabc')
    h.exchange.responses.gap(4000)
    h.response('x'.repeat(997) + 'HTTP/1.1 200 OK\r\nContent-Le')
    h.exchange.responses.gap(100)
    h.response('more of a body')
    h.response(ok())
    assert.deepEqual(h.summary, ['GET /1 200', 'GET /2 200', 'GET /3 200'])
    assert.deepEqual(h.errors, ['capture_gap'])
  })

  it('counts responses without a request, requests unanswered by timeout or at close, and deep pipelines', () => {
    const h = new Harness()
    h.response(ok())
    h.request(get('/slow'), 1000n)
    h.request(get('/slower'), 2000n)
    h.exchange.expire(1500)
    h.exchange.expire(1500) // counted once
    h.response(ok() + ok())
    h.request(get('/never'), 3000n)
    h.exchange.close()
    assert.deepEqual(h.summary, ['GET /slower 200'])
    assert.deepEqual(h.drops, ['response_without_request', 'request_timeout', 'unanswered_at_close'])

    const deep = new Harness(LIMITS, 4)
    deep.request(get('/1') + get('/2') + get('/3') + get('/4') + get('/5') + get('/6'))
    assert.deepEqual(deep.drops, ['pending_full', 'connection_evicted', 'connection_evicted', 'connection_evicted', 'connection_evicted'])
    assert.equal(deep.exchange.pendingRequests, 0)
  })

  it('survives any bytes in any pieces without throwing, and keeps its memory bounded', () => {
    const pieces = fc.array(fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom(get('/x'), ok(), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhello\r\n', '0\r\n\r\n',
        'Content-Length: 3\r\n', '\r\n', 'GET /', ' HTTP/1.1\r\n').map((text) => Buffer.from(text)),
    ), { maxLength: 40 })
    fc.assert(fc.property(pieces, pieces, fc.array(fc.nat(5000), { maxLength: 3 }), (requests, responses, gaps) => {
      const h = new Harness()
      requests.forEach((piece, i) => h.request(piece, BigInt(i)))
      for (const gap of gaps) h.exchange.responses.gap(gap)
      responses.forEach((piece, i) => h.response(piece, BigInt(i)))
      assert.ok(h.exchange.pendingRequests <= 64)
      for (const record of h.records) assert.ok(record.path.length <= LIMITS.maxPathLength)
    }), { numRuns: 500 })
  })
})
