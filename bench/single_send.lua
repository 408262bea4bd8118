-- wrk script for bench/single_send.py: POST /api/messages/send with a different
-- body on every request (identical bodies within 10 s are refused with 429).
--
--   wrk -t1 -c32 -d10s -s bench/single_send.lua http://127.0.0.1:PORT -- KEY NONCE
--
-- Prints "RESULT name value" lines that single_send.py parses.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  key = args[1]
  nonce = args[2] or tostring(os.time())
  counter = 0
  non200 = 0
  statuses = {}
  wrk.method = "POST"
  wrk.path = "/api/messages/send"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-API-KEY"] = key
end

function request()
  counter = counter + 1
  -- distinct valid Ukrainian numbers per thread; skip the simulator's magic endings 0001-0005
  local suffix = (id * 3000000 + counter) % 10000000
  local tail = suffix % 10000
  if tail >= 1 and tail <= 5 then suffix = suffix + 10 end
  local body = string.format(
    '{"channels":["sms"],"phone":{"number":%d},"sms":{"sender":"relaybox","text":"Your code is %d (%s-%d)"}}',
    380970000000 + suffix, counter, nonce, id)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total_non200 = 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    total_non200 = total_non200 + (thread:get("non200") or 0)
    local st = thread:get("statuses") or {}
    for code, n in pairs(st) do by_status[code] = (by_status[code] or 0) + n end
  end
  io.write(string.format("RESULT requests %d\n", summary.requests))
  io.write(string.format("RESULT duration_s %.6f\n", summary.duration / 1e6))
  io.write(string.format("RESULT rps %.2f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({50, 90, 95, 99, 99.9}) do
    io.write(string.format("RESULT p%s_ms %.3f\n", tostring(p), latency:percentile(p) / 1000))
  end
  io.write(string.format("RESULT mean_ms %.3f\n", latency.mean / 1000))
  io.write(string.format("RESULT max_ms %.3f\n", latency.max / 1000))
  io.write(string.format("RESULT non200 %d\n", total_non200))
  for code, n in pairs(by_status) do io.write(string.format("RESULT status_%s %d\n", tostring(code), n)) end
  local e = summary.errors
  io.write(string.format("RESULT socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
end
