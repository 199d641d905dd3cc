-- wrk script for the notes benchmark. The workload comes from the environment:
--   BENCH_WORKLOAD  read | list | create | mixed | path
--   BENCH_MAX_ID    highest seeded id (reads and list cursors are drawn from 1..max)
--   BENCH_PAGE      page size of list requests (default 50)
--   BENCH_PATH      the fixed path of the `path` workload (the deep-page check)
-- `mixed` is 80% point reads and 20% creates. When done, prints one line:
--   BENCH_RESULT {json}

local workload = os.getenv("BENCH_WORKLOAD") or "read"
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "100000")
local page = tonumber(os.getenv("BENCH_PAGE") or "50")
local fixed_path = os.getenv("BENCH_PATH") or "/notes/"
local body = '{"text": "Remember to learn async DB calls!", "completed": false}'
local json_headers = { ["Content-Type"] = "application/json" }

local threads = {}
local counter = 1

function setup(thread)
  thread:set("thread_number", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + thread_number)
end

local function read()
  return wrk.format("GET", "/notes/" .. math.random(1, max_id))
end

local function list()
  return wrk.format("GET", "/notes/?limit=" .. page .. "&after=" .. math.random(0, max_id - page))
end

local function create()
  return wrk.format("POST", "/notes/", json_headers, body)
end

local function fixed()
  return wrk.format("GET", fixed_path)
end

local choose = {
  read = read,
  list = list,
  create = create,
  path = fixed,
  mixed = function()
    if math.random(1, 5) == 1 then return create() end
    return read()
  end,
}

request = choose[workload]
if request == nil then
  error("unknown BENCH_WORKLOAD " .. workload)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
