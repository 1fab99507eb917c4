// Node's `ws` as a server for our client: on the first connection, sends
// 16 MiB of random bytes as one binary message, checks the echo byte for
// byte, closes with 1000 (4000 on a wrong echo) and exits.
//
//   node echo_server.js deflate|plain
//
// Prints "port N" once listening on 127.0.0.1 (a free port), then
// "echo ok <extensions>"; exits 0 on success, 1 otherwise (and after 120 s
// at the latest).
'use strict';
const crypto = require('crypto');
const WebSocket = require('ws');

const deflate = process.argv[2] === 'deflate';
const data = crypto.randomBytes(16 << 20);
const fail = (why) => {
  console.log('echo failed: ' + why);
  process.exit(1);
};
setTimeout(() => fail('timeout'), 120000).unref();

const wss = new WebSocket.Server({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: deflate,
  maxPayload: 64 << 20,
});
wss.on('listening', () => console.log('port ' + wss.address().port));
wss.on('connection', (ws) => {
  if (deflate !== ws.extensions.includes('permessage-deflate')) {
    fail('extensions negotiated: ' + JSON.stringify(ws.extensions));
  }
  let ok = false;
  ws.on('message', (msg, isBinary) => {
    ok = isBinary && Buffer.isBuffer(msg) && msg.equals(data);
    console.log(ok ? 'echo ok ' + JSON.stringify(ws.extensions) : 'echo failed: it differs');
    ws.close(ok ? 1000 : 4000);
  });
  ws.on('close', () => process.exit(ok ? 0 : 1));
  ws.on('error', (e) => fail(String(e)));
  ws.send(data, { binary: true });
});
