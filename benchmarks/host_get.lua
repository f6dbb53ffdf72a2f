-- wrk script of benchmarks/host_speed.py: GET /3/footprints/{id} of random published ids
-- with a bearer token. Set by the benchmark: TOKEN (environment), N (ids 0 .. N-1).
local token = os.getenv("CFP_BENCH_TOKEN")
local n = tonumber(os.getenv("CFP_BENCH_N"))

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  -- footprint_id(i) of tests/fixtures/exchange_helpers.py: UUID(int = i + 0xABCD << 96)
  local path = string.format("/3/footprints/0000abcd-0000-0000-0000-%012x", math.random(0, n - 1))
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
