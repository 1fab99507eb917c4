// Node's `ws` as a client of our echo server: sends 16 MiB of random bytes
// as one binary message and checks the echo byte for byte.
//
//   node echo_client.js URL deflate|plain
//
// Prints "echo ok <extensions>" and exits 0 on success; exits 1 otherwise
// (and after 120 s at the latest).
'use strict';
const crypto = require('crypto');
const WebSocket = require('ws');

const [url, mode] = process.argv.slice(2);
const deflate = mode === 'deflate';
const data = crypto.randomBytes(16 << 20);
const fail = (why) => {
  console.log('echo failed: ' + why);
  process.exit(1);
};
setTimeout(() => fail('timeout'), 120000).unref();

const ws = new WebSocket(url, { perMessageDeflate: deflate, maxPayload: 64 << 20 });
ws.on('open', () => {
  if (deflate !== ws.extensions.includes('permessage-deflate')) {
    fail('extensions negotiated: ' + JSON.stringify(ws.extensions));
  }
  ws.send(data, { binary: true });
});
ws.on('message', (msg, isBinary) => {
  if (!isBinary || !Buffer.isBuffer(msg) || !msg.equals(data)) {
    fail('the echo differs (' + msg.length + ' bytes)');
  }
  console.log('echo ok ' + JSON.stringify(ws.extensions));
  ws.close(1000);
});
ws.on('close', (code) => process.exit(code === 1000 ? 0 : 1));
ws.on('error', (e) => fail(String(e)));
