-- post.lua — wrk script for ./dev bench telegram: POSTs Telegram updates.
--
-- Purpose: every request is a distinct, realistic private-chat text message
-- update (about 600 bytes, Russian text, as Telegram delivers it to a
-- webhook) with the X-Telegram-Bot-Api-Secret-Token header. update_id is
-- unique per request: base + thread index + n * threads, so identical ids
-- never turn the receiver's INSERT into a no-op; chats rotate over CHATS ids
-- starting at CHAT0 (user id == chat id, as in a private chat).
--
-- Arguments (after `--`): SECRET BASE_UPDATE_ID [CHATS [CHAT0]]
--   wrk -t1 -c64 -d10s --latency -s post.lua http://HOST:PORT/telegram/webhook -- s3cret 1000000 10000
-- Exports: wrk's setup/init/request hooks.
-- Threads: each wrk thread runs its own copy (its own Lua state); setup()
-- runs in wrk's main thread before they start.

local threads = {}
local nthreads = 0

function setup(thread)
   thread:set("tindex", nthreads)
   nthreads = nthreads + 1
   table.insert(threads, thread)
   for _, t in ipairs(threads) do t:set("tcount", nthreads) end
end

local secret, next_id, step, chats, chat0

function init(args)
   secret = args[1] or "bench-secret"
   local base = tonumber(args[2] or "1000000")
   chats = tonumber(args[3] or "10000")
   chat0 = tonumber(args[4] or "800000001")
   step = tcount or 1
   next_id = base + (tindex or 0)
end

local names = {
   {"Иван", "Петров", "ivan_petrov"}, {"Мария", "Ковальчук", "m_kovalchuk"},
   {"Алексей", "Сидоренко", "alex_sid"}, {"Ольга", "Шевченко", "olga_sh"},
   {"Дмитрий", "Бондаренко", "dbondarenko"}, {"Анна", "Ткаченко", "anna_tk"},
}
local texts = {
   "Здравствуйте! Подскажите, пожалуйста, где сейчас мой заказ 12345678-0001-1? Обещали привезти сегодня до вечера, но курьер пока не звонил.",
   "Добрый день, хочу оформить доставку на завтра, улица Артёма 45, кв. 12, после обеда, если можно, позвоните заранее, домофон не работает.",
   "Привет! Посылка уже третий день в пункте выдачи, можно ли продлить хранение ещё на неделю? Сейчас в командировке. Спасибо большое заранее.",
}

local headers = {
   ["Content-Type"] = "application/json",
}

function request()
   local id = next_id
   next_id = next_id + step
   local chat = chat0 + (id % chats)
   local who = names[(id % #names) + 1]
   local text = texts[(id % #texts) + 1]
   headers["X-Telegram-Bot-Api-Secret-Token"] = secret
   local body = string.format(
      '{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,' ..
      '"first_name":"%s","last_name":"%s","username":"%s","language_code":"ru"},' ..
      '"chat":{"id":%d,"first_name":"%s","last_name":"%s","username":"%s","type":"private"},' ..
      '"date":%d,"text":"%s"}}',
      id, 1000 + math.floor(id / chats), chat, who[1], who[2], who[3],
      chat, who[1], who[2], who[3], 1750000000 + math.floor(id / 1000), text)
   return wrk.format("POST", nil, headers, body)
end
