-- wrk script for the inbound benchmark (bench/wrk.py writes its input and reads its output).
--
-- Every request is one line of the pool file BENCH_WRK_POOL, signed before the run:
-- "<X-Twilio-Signature>\t<form body>", POSTed to BENCH_WRK_PATH. Thread k of BENCH_WRK_THREADS
-- sends lines k, k + threads, ...; each line is sent at most once, so no webhook is replayed.
-- A connection whose thread has sent its share stays idle to the end.
--
-- BENCH_WRK_RATE unset or 0: closed loop (each connection sends as soon as it is answered).
-- BENCH_WRK_RATE > 0: paced at that many requests per second over all threads, by delay():
-- request n of a thread is due at a fixed time on a timetable, so a late answer does not push
-- the later requests back (each connection still waits for its own answer; the script counts
-- the requests that left late). A request that wrk asks for while no slot is due is a
-- connection's first (wrk sends it on connecting, without asking delay()): it is a GET /healthz
-- probe, so the timetable starts without a burst; done() leaves the probes out of the count and
-- treats them as the fastest latency samples.
--
-- done() prints one line, "BENCH-WRK-JSON {...}", with the counts and latencies (µs).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local POOL = os.getenv("BENCH_WRK_POOL")
local PATH = os.getenv("BENCH_WRK_PATH")
local THREADS = tonumber(os.getenv("BENCH_WRK_THREADS"))
local RATE = tonumber(os.getenv("BENCH_WRK_RATE") or "") or 0
local LATE_MS = 5 -- a paced request that leaves later than this after its slot counts as late
local LEAD_MS = 200 -- the timetable starts this long after init, once the probes are answered

-- Main state: setup() and done() run here, once per thread and once at the end.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

-- Thread states: init(), request(), delay() and response() run in each thread's own state.

local pool = {}
local pool_size = 0
local next_request = 1
local probe = nil
local SLACK_MS = 1.5 -- delay() waits whole ms, rounded down: a slot's request may leave early

-- Counters read by done() through thread:get().
sent = 0 -- webhooks written
answered = 0 -- webhooks answered (any status)
statuses = {}
probes_answered = 0
ran_out = 0 -- requests wrk asked for after this thread's share was sent
late = 0
max_late_ms = 0

local due = {} -- slots handed out by delay() whose request has not left yet, oldest first
local due_head = 1
local due_tail = 0
local slot = 0
local start_ms = 0
local interval_ms = 0

function init(args)
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  local i = 0
  for line in io.lines(POOL) do
    if i % THREADS == id then
      local signature, body = line:match("^([^\t]*)\t(.*)$")
      headers["X-Twilio-Signature"] = signature
      pool[#pool + 1] = wrk.format("POST", PATH, headers, body)
    end
    i = i + 1
  end
  pool_size = #pool
  if RATE > 0 then
    probe = wrk.format("GET", "/healthz", {}, nil)
    interval_ms = 1000 * THREADS / RATE
    start_ms = now_ms() + LEAD_MS + id * 1000 / RATE
  end
end

function request()
  if RATE > 0 then
    local now = now_ms()
    if due_head > due_tail or due[due_head] > now + SLACK_MS then
      if slot >= pool_size then
        ran_out = ran_out + 1 -- the timetable is over: leave the connection idle
        return ""
      end
      return probe -- no slot is due: a connection's first request
    end
    local lateness = now - due[due_head]
    due[due_head] = nil
    due_head = due_head + 1
    if lateness > LATE_MS then
      late = late + 1
    end
    if lateness > max_late_ms then
      max_late_ms = lateness
    end
  end
  if next_request > pool_size then
    -- Nothing left to send: an empty write leaves the connection idle until wrk stops.
    ran_out = ran_out + 1
    return ""
  end
  local req = pool[next_request]
  pool[next_request] = nil
  next_request = next_request + 1
  sent = sent + 1
  return req
end

if RATE > 0 then
  function delay()
    if slot >= pool_size then
      return 0 -- the timetable is over: request() will find nothing left to send
    end
    local at = start_ms + slot * interval_ms
    slot = slot + 1
    due_tail = due_tail + 1
    due[due_tail] = at
    local wait = at - now_ms()
    if wait < 0 then
      return 0
    end
    return math.floor(wait)
  end
end

function response(status, headers, body)
  local content_type = headers["Content-Type"] or headers["content-type"] or ""
  if RATE > 0 and status == 200 and content_type:find("json", 1, true) then
    probes_answered = probes_answered + 1
    return
  end
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
end

local function json(value)
  local kind = type(value)
  if kind == "table" then
    local parts = {}
    for k, v in pairs(value) do
      parts[#parts + 1] = string.format("%q:%s", tostring(k), json(v))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then
      return "null"
    end
    return string.format("%.17g", value)
  elseif kind == "nil" then
    return "null"
  end
  return string.format("%q", tostring(value))
end

function done(summary, latency, requests)
  local out = {
    duration_us = summary.duration,
    responses = summary.requests,
    errors = summary.errors,
    sent = 0,
    answered = 0,
    probes = 0,
    ran_out = 0,
    late = 0,
    max_late_ms = 0,
    statuses = {},
    latency_us = {},
  }
  for _, thread in ipairs(threads) do
    out.sent = out.sent + thread:get("sent")
    out.answered = out.answered + thread:get("answered")
    out.probes = out.probes + thread:get("probes_answered")
    out.ran_out = out.ran_out + thread:get("ran_out")
    out.late = out.late + thread:get("late")
    out.max_late_ms = math.max(out.max_late_ms, thread:get("max_late_ms"))
    for status, n in pairs(thread:get("statuses")) do
      out.statuses[status] = (out.statuses[status] or 0) + n
    end
  end
  -- Every answer is one latency sample (the timeout outlasts the run). Nearest rank among the
  -- webhooks' samples, the probes being the fastest ones: wrk's percentile(p) takes rank
  -- round(p / 100 * count + 0.5), so ask for the p that lands on the rank wanted.
  local count = summary.requests
  local webhooks = count - out.probes
  if webhooks > 0 then
    for _, q in ipairs({ 50, 90, 99, 99.9 }) do
      local rank = math.max(1, math.ceil(q * webhooks / 100)) + out.probes
      out.latency_us[tostring(q)] = latency:percentile(100 * (rank - 0.75) / count)
    end
    out.latency_us["max"] = latency.max
  end
  io.write("BENCH-WRK-JSON " .. json(out) .. "\n")
end
