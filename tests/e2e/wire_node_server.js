// A chat-completions endpoint on Node's own `http` module, for
// tests/e2e/test_wire_compat.py. Node 18 or later, no packages.
//
// Binds 127.0.0.1:0, prints "listening on 127.0.0.1:PORT", then "conn N"
// per accepted connection and "req N" per request (N = that connection's
// number). The first path segment picks the framing of the answer:
//   /cl/...       res.end(body) with Content-Length (keep-alive)
//   /chunked/...  three res.write()s and no length: Node chunks it
//   /close/...    Connection: close and no length: chunked, then Node closes
//   /sse/...      text/event-stream, one event per write, usage last
// The answer's content is "node MODE: " + the last message's content.
// With `--tls CERT KEY` it serves https (Node's `https` module, OpenSSL
// underneath) and counts a connection once its TLS handshake is done, so
// "conn N" lines are handshakes.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');

let connections = 0;

function completion(model, content) {
  return JSON.stringify({
    id: 'chatcmpl-node', object: 'chat.completion', created: 1700000000, model,
    choices: [{index: 0, message: {role: 'assistant', content}, finish_reason: 'stop'}],
    usage: {prompt_tokens: 7, completion_tokens: 5, total_tokens: 12},
  });
}

function thirds(text) {
  const n = Math.floor(text.length / 3);
  return [text.slice(0, n), text.slice(n, 2 * n), text.slice(2 * n)];
}

function sseEvents(model, content) {
  const chunk = (delta, finish, usage) => 'data: ' + JSON.stringify({
    id: 'chatcmpl-node', object: 'chat.completion.chunk', created: 1700000000, model,
    choices: usage ? [] : [{index: 0, delta, finish_reason: finish}],
    ...(usage ? {usage} : {}),
  }) + '\n\n';
  const events = [chunk({role: 'assistant', content: ''}, null)];
  for (const piece of thirds(content)) {
    events.push(chunk({content: piece}, null));
  }
  events.push(chunk({}, 'stop'));
  events.push(chunk(null, null, {prompt_tokens: 7, completion_tokens: 5, total_tokens: 12}));
  events.push('data: [DONE]\n\n');
  return events;
}

function answer(req, res, body) {
  const mode = req.url.split('/')[1];
  const request = JSON.parse(body);
  const content = `node ${mode}: ${request.messages[request.messages.length - 1].content}`;
  const json = completion(request.model, content);
  if (mode === 'cl') {
    res.writeHead(200, {'Content-Type': 'application/json',
                        'Content-Length': Buffer.byteLength(json)});
    res.end(json);
  } else if (mode === 'chunked' || mode === 'close') {
    const headers = {'Content-Type': 'application/json'};
    if (mode === 'close') {
      headers.Connection = 'close';
    }
    res.writeHead(200, headers);
    const [a, b, c] = thirds(json);
    res.write(a);
    res.write(b);
    res.end(c);
  } else if (mode === 'sse') {
    res.writeHead(200, {'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache'});
    const events = sseEvents(request.model, content);
    events.forEach((event, i) => (i + 1 < events.length ? res.write(event) : res.end(event)));
  } else {
    res.writeHead(404, {'Content-Type': 'application/json'});
    res.end('{"error":{"message":"unknown mode"}}');
  }
}

function onRequest(req, res) {
  console.log(`req ${req.socket.connId}`);
  const parts = [];
  req.on('data', (part) => parts.push(part));
  req.on('end', () => answer(req, res, Buffer.concat(parts).toString('utf8')));
}

function countConnection(socket) {
  socket.connId = ++connections;
  console.log(`conn ${socket.connId}`);
}

const tls = process.argv.indexOf('--tls');
let server;
if (tls >= 0) {
  server = https.createServer(
      {cert: fs.readFileSync(process.argv[tls + 1]), key: fs.readFileSync(process.argv[tls + 2])},
      onRequest);
  server.on('secureConnection', countConnection);  // req.socket is this TLS socket
} else {
  server = http.createServer(onRequest);
  server.on('connection', countConnection);
}
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
