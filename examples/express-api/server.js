'use strict';
// A typical small Express service: JSON API with validation and structured
// logs. GET / answers with a greeting; GET /healthz with "ok"; POST /echo
// validates its body. It listens on $PORT (default 3000).
const express = require('express');
const pino = require('pino');
const { z } = require('zod');
const dayjs = require('dayjs');
const _ = require('lodash');
const { greeting } = require('./lib/greeting');

const log = pino({ level: process.env.LOG_LEVEL || 'info' });
const app = express();
app.use(express.json({ limit: '64kb' }));

const started = dayjs();

app.get('/', (req, res) => {
  res.type('text/plain').send(`${greeting(process.env.GREETING_NAME)} (since ${started.format('HH:mm:ss')})\n`);
});

app.get('/healthz', (req, res) => res.type('text/plain').send('ok\n'));

const Echo = z.object({ message: z.string().max(200), tags: z.array(z.string()).max(10).default([]) });
app.post('/echo', (req, res) => {
  const parsed = Echo.safeParse(req.body);
  if (!parsed.success) {
    res.status(400).json({ error: parsed.error.issues.map((i) => i.message) });
    return;
  }
  res.json({ message: parsed.data.message, tags: _.uniq(parsed.data.tags).sort() });
});

const port = Number(process.env.PORT || 3000);
const server = app.listen(port, () => log.info({ port }, 'express-api listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
