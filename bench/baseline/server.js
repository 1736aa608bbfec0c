// Baseline for bench/fanout.py: a plain Node `ws` server speaking just enough of the
// Steeple protocol for the load generator. No storage; every socket is "in the room".
// Ports: SERVER_PORT (HTTP, default 8084) and SOCKET_PORT (WebSocket, default 8087).
'use strict';
const http = require('http');
const crypto = require('crypto');
const { WebSocketServer } = require('ws');

const HOST = process.env.HOST || '127.0.0.1';
const wss = new WebSocketServer({
  host: HOST,
  port: Number(process.env.SOCKET_PORT || 8087),
  perMessageDeflate: false,
});

wss.on('connection', (ws) => {
  const id = crypto.randomBytes(9).toString('base64url').slice(0, 11);
  const reply = JSON.stringify({ churchId: '', conversationId: '', action: 'socketId', data: id });
  ws.on('message', () => ws.send(reply));
});

function broadcast(entry) {
  const message = {
    id: crypto.randomBytes(9).toString('base64url').slice(0, 11),
    churchId: entry.churchId,
    conversationId: entry.conversationId,
    displayName: entry.displayName,
    content: entry.content,
    messageType: entry.messageType || 'message',
    personId: null,
    timeSent: new Date().toISOString(),
  };
  const frame = { churchId: entry.churchId, conversationId: entry.conversationId, action: 'message', data: message };
  const buf = Buffer.from(JSON.stringify(frame)); // encoded once, written to every socket
  for (const client of wss.clients) client.send(buf, { binary: false });
  return message;
}

function reply(res, status, body) {
  const buf = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': buf.length });
  res.end(buf);
}

function route(req, body) {
  const path = req.url.toLowerCase().split('?')[0];
  if (req.method === 'GET' && path === '/health') return [200, { status: 'ok' }];
  if (req.method === 'GET' && path.startsWith('/messaging/conversations/current/')) {
    const [churchId, contentType, contentId] = req.url.split('?')[0].split('/').slice(4);
    return [200, { id: `${contentType}-${contentId}`, churchId, contentType, contentId }];
  }
  if (req.method !== 'POST') return [404, {}];
  if (path === '/messaging/messages/send') return [200, JSON.parse(body).map(broadcast)];
  if (path === '/messaging/connections') return [200, JSON.parse(body)];
  return [404, {}];
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    try {
      reply(res, ...route(req, Buffer.concat(chunks).toString()));
    } catch (err) {
      reply(res, 400, { error: String(err) });
    }
  });
}).listen(Number(process.env.SERVER_PORT || 8084), HOST);
