-- wrk script for the fault runs: like keys.lua (a key per request, round-robin from KEYS_FILE),
-- but it also counts responses by status code and prints them as
--   STATUS 200=n 401=n ... errors=n
-- so a run can assert what every class of key got while Redis and PostgreSQL were cut off.
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  requests = 0
  counts = {}
end

function request()
  requests = requests + 1
  local k = keys[((requests * 7919 + id * 104729) % #keys) + 1]
  return wrk.format(nil, wrk.path, { ["X-API-Key"] = k })
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, n in pairs(c) do total[status] = (total[status] or 0) + n end
  end
  local line = "STATUS"
  for status, n in pairs(total) do line = line .. string.format(" %d=%d", status, n) end
  local e = summary.errors
  io.write(line .. string.format(" errors=%d\n", e.connect + e.read + e.write + e.timeout))
end
