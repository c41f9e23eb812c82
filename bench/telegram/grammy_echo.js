// grammy_echo.js — the peer of ./dev bench telegram: a grammY webhook echo bot.
//
// Purpose: the reference Telegram bot written the usual way in Node.js,
// measured beside plus7d under the same wrk load. It answers every message
// with its own text (ctx.reply(ctx.message.text)) behind grammY's
// webhookCallback on a bare node:http server (no express), and checks the
// X-Telegram-Bot-Api-Secret-Token header through grammY's secretToken
// option, as plus7d does. botInfo is given, so grammY never calls getMe.
//
// Modes (argument 4):
//   webhook-reply (default, the fastest configuration grammY offers): the
//     sendMessage call travels back in the webhook response body
//     (client.canUseWebhookReply), so no outgoing HTTP call is made and
//     nothing is stored anywhere;
//   api: ctx.reply makes a real sendMessage call to API_ROOT (tgsim) before
//     the webhook is answered with an empty 200;
//   session-psql: what a team would build for a bot with state — grammY's
//     session middleware on PostgreSQL (@grammyjs/storage-psql over
//     node-postgres, one pg.Client, connection from the PG* environment
//     variables), reading and writing the chat's session on every update
//     (a counter `n` incremented), the reply as a webhook reply. grammY
//     answers the webhook at ctx.reply, before the session is written, so
//     an outermost middleware counts the updates fully processed (session
//     written); GET /processed returns that count (the bench's measure).
//
// Usage: node grammy_echo.js PORT TOKEN SECRET [MODE [API_ROOT]]
//   (session-psql also reads PGHOST, PGPORT, PGDATABASE, PGUSER)
// Prints "listening on PORT" to stdout once the server accepts connections.
// Exports: nothing (a program). Threads: Node's single event loop.
'use strict';

const http = require('node:http');
const { Bot, webhookCallback } = require('grammy');

const [port, token, secret, mode = 'webhook-reply', apiRoot = 'http://127.0.0.1:1'] =
  process.argv.slice(2);
if (!port || !token || !secret || !['webhook-reply', 'api', 'session-psql'].includes(mode)) {
  console.error('usage: node grammy_echo.js PORT TOKEN SECRET [webhook-reply|api|session-psql [API_ROOT]]');
  process.exit(2);
}

const botInfo = {
  id: Number(token.split(':')[0]),
  is_bot: true,
  first_name: 'Echo',
  username: 'echo_bench_bot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
};

async function main() {
  const bot = new Bot(token, {
    botInfo,
    client: {
      apiRoot,
      canUseWebhookReply: (method) => mode !== 'api' && method === 'sendMessage',
    },
  });

  let processed = 0;
  if (mode === 'session-psql') {
    const { Client } = require('pg');
    const { PsqlAdapter } = require('@grammyjs/storage-psql');
    const { session } = require('grammy');
    const client = new Client();
    await client.connect();
    const storage = await PsqlAdapter.create({ tableName: 'grammy_sessions', client });
    bot.use(async (ctx, next) => {
      await next();
      processed++;
    });
    bot.use(session({ initial: () => ({ n: 0 }), storage }));
    bot.on('message:text', (ctx) => {
      ctx.session.n++;
      return ctx.reply(ctx.message.text);
    });
  } else {
    bot.on('message:text', (ctx) => ctx.reply(ctx.message.text));
  }

  const handle = webhookCallback(bot, 'http', { secretToken: secret });

  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/telegram/webhook') {
      handle(req, res).catch((err) => {
        console.error('update failed:', err && err.message);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    } else if (req.method === 'GET' && req.url === '/processed') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(String(processed));
    } else {
      res.writeHead(404).end();
    }
  });

  server.listen(Number(port), '127.0.0.1', () => console.log(`listening on ${port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((err) => {
  console.error('start failed:', err && err.message);
  process.exit(1);
});
