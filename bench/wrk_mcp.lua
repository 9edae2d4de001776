-- wrk script of the mcp-gate benchmark (bench/wrk.py runs it): every request is the same
-- MCP `tools/call` of the echo tool, on one MCP session opened beforehand, with the gate's
-- access token when there is one. Prints one JSON line of figures when done.
local token = os.getenv("BENCH_TOKEN") or ""
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":7,"method":"tools/call",'
  .. '"params":{"name":"echo","arguments":{"text":"hello"}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Mcp-Session-Id"] = os.getenv("BENCH_SESSION")
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.6f,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,'
      .. '"socket_errors":%d,"bad_statuses":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency.mean, errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
