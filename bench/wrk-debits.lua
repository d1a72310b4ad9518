-- wrk script for `burnrate serve`: POST /v1/debits, each request with an Idempotency-Key of its
-- own (so every request is a new durable debit, never a replay).
--   BURNRATE_KEY=brk_... BURNRATE_POOL=load wrk -t2 -c64 -d20s --latency -s bench/wrk-debits.lua http://127.0.0.1:8080
local threads = {}
local run = os.getenv("BURNRATE_RUN") or tostring(os.time())

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function init(args)
   n = 0
   headers = {
      ["Authorization"] = "Bearer " .. os.getenv("BURNRATE_KEY"),
      ["Content-Type"] = "application/json",
   }
   body = '{"pool":"' .. (os.getenv("BURNRATE_POOL") or "load") .. '","amount":"0.000001"}'
end

function request()
   n = n + 1
   headers["Idempotency-Key"] = "wrk-" .. run .. "-" .. tid .. "-" .. n
   return wrk.format("POST", "/v1/debits", headers, body)
end
