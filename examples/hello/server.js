'use strict';
// A small HTTP service for the AetherEngine quickstart: GET / answers with a
// greeting, GET /healthz with "ok". It listens on $PORT (default 3000).
const http = require('node:http');
const ms = require('ms');
const { v4: uuidv4 } = require('uuid');
const { greeting } = require('./lib/greeting');

const port = Number(process.env.PORT || 3000);
const started = Date.now();

const server = http.createServer((req, res) => {
  const id = uuidv4();
  res.setHeader('X-Request-Id', id);
  if (req.url === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  if (req.method === 'GET' && req.url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`${greeting(process.env.GREETING_NAME)} (up ${ms(Date.now() - started)})\n`);
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});

server.listen(port, () => {
  console.log(`hello listening on :${port}`);
});

// Stop accepting connections on SIGTERM so a rollout drains cleanly.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
