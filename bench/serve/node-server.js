// The Node baseline for bench/serve.sh: the subscribe/publish part of the wsdoctor
// realtime protocol on the `ws` package (Debian node-ws; run with
// NODE_PATH=/usr/share/nodejs). Written as ws's README suggests (one server, a
// heartbeat interval for pings); no history, no recovery; a consumer whose send
// buffer passes 1 MiB is dropped. A floor to compare `wsdoctor serve` with.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const host = process.argv[2] || '127.0.0.1';
const port = Number(process.argv[3] || 0);
const maxBuffered = 1 << 20;
const channels = new Map(); // name → { offset, subs: Set<ws> }

function channel(name) {
  let ch = channels.get(name);
  if (!ch) { ch = { offset: 0, subs: new Set() }; channels.set(name, ch); }
  return ch;
}

const withId = (id) => (id === undefined ? '' : ',"id":' + JSON.stringify(id));
const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 64 * 1024, perMessageDeflate: false });

wss.on('connection', (ws) => {
  ws.isAlive = true;
  ws.subscribed = new Set();
  ws.on('pong', () => { ws.isAlive = true; });
  ws.send('{"op":"welcome","session":"n","pingIntervalMs":20000}');
  ws.on('message', (data) => {
    let req;
    try { req = JSON.parse(data); } catch { ws.send('{"op":"error","code":"bad-request","message":"malformed"}'); return; }
    if (req.op === 'subscribe') {
      const ch = channel(req.channel);
      ch.subs.add(ws);
      ws.subscribed.add(req.channel);
      ws.send('{"op":"subscribed","channel":' + JSON.stringify(req.channel) + ',"epoch":"n","offset":' + ch.offset + ',"recovered":true' + withId(req.id) + '}');
    } else if (req.op === 'publish') {
      const ch = channel(req.channel);
      ch.offset += 1;
      const msg = '{"op":"message","channel":' + JSON.stringify(req.channel) + ',"epoch":"n","offset":' + ch.offset + ',"data":' + JSON.stringify(req.data) + '}';
      for (const sub of ch.subs) {
        if (sub.bufferedAmount > maxBuffered) sub.terminate(); else sub.send(msg);
      }
      ws.send('{"op":"published","channel":' + JSON.stringify(req.channel) + ',"epoch":"n","offset":' + ch.offset + withId(req.id) + '}');
    } else {
      ws.send('{"op":"error","code":"bad-request","message":"unknown op"' + withId(req.id) + '}');
    }
  });
  ws.on('close', () => { for (const name of ws.subscribed) channel(name).subs.delete(ws); });
});

const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!ws.isAlive) { ws.terminate(); continue; }
    ws.isAlive = false;
    ws.ping();
  }
}, 20000);

server.listen(port, host, () => {
  const a = server.address();
  process.stderr.write(`node: listening on http://${a.address}:${a.port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { clearInterval(heartbeat); process.exit(0); });
