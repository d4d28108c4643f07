-- wrk script: each request carries a key taken round-robin from the file in KEYS_FILE, in the
-- X-API-Key header, and done() prints throughput, p50/p99/p99.9 latency, socket errors and
-- responses with status >= 400. EXTRA_HEADERS ("Name: value|Name: value") adds fixed headers to
-- every request (compare.sh sends a gateway without key auth the identity headers this way).
local keys = {}
local extra = {}
for pair in string.gmatch(os.getenv("EXTRA_HEADERS") or "", "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
  if name then extra[name] = value end
end
local file = os.getenv("KEYS_FILE")
if file and file ~= "" then
  for line in io.lines(file) do keys[#keys + 1] = line end
end
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  requests = 0
end

function request()
  requests = requests + 1
  if #keys == 0 then
    return wrk.format(nil, wrk.path, extra)
  end
  local headers = { ["X-API-Key"] = keys[((requests * 7919 + id * 104729) % #keys) + 1] }
  for name, value in pairs(extra) do headers[name] = value end
  return wrk.format(nil, wrk.path, headers)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_us=%d p99_us=%d p999_us=%d requests=%d errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
