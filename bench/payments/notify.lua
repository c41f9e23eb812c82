-- notify.lua — wrk script for ./dev bench payments: POSTs YooKassa
-- notifications (the documented shape, ~400 bytes) with a distinct payment
-- id per request, so every request is one stored row; done() prints one
-- JSON line {"rps","p99_us","errors"} on stderr for the script to read.
-- Arguments (after `--`): PREFIX (makes ids unique across runs)
-- Exports: wrk's init/request/done hooks. Threads: one Lua state per wrk thread.
local prefix, n = "r", 0

function init(args)
   prefix = args[1] or "r"
end

function request()
   n = n + 1
   local id = string.format("%s-%08d-000f-5000-9000-145f6df21d6f", prefix, n)
   local body = '{"type":"notification","event":"payment.succeeded","object":{"id":"' .. id ..
      '","status":"succeeded","paid":true,"amount":{"value":"350.00","currency":"RUB"},' ..
      '"created_at":"2026-12-07T14:27:54.691Z","description":"Доставка заказа 12345678-0001-1",' ..
      '"metadata":{},"payment_method":{"type":"sbp","id":"' .. id .. '","saved":false},"refundable":true,"test":false}}'
   return wrk.format("POST", "/payments/yookassa", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
   local errs = summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.status + summary.errors.timeout
   io.stderr:write(string.format('WRKJSON {"rps":%.1f,"p99_us":%d,"errors":%d}\n',
      summary.requests / (summary.duration / 1e6), latency:percentile(99), errs))
end
