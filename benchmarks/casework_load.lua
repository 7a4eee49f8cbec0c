-- wrk script of the casework load benchmark (benchmarks/casework_load.py writes its input and
-- reads its output; see benchmarks/README.md).
--
-- Arguments (after `--`): CASES_FILE RATE_PER_THREAD [CLOSE_SHARE [KIND]]
--   CASES_FILE       lines "case_id<TAB>bearer token" (seeded cases and a caseworker of their
--                    municipality)
--   RATE_PER_THREAD  requests per second that each wrk thread sends
--   CLOSE_SHARE      share of requests sent with "Connection: close" (default 0)
--   KIND             optional: send only this kind of request (to time one endpoint)
--
-- Pacing: every thread keeps one schedule of send times, RATE_PER_THREAD apart, and each of its
-- connections takes the next free slot in `delay()` before it sends. As long as a connection is
-- free when a slot comes (there are far more connections than requests in flight), requests
-- go out at the fixed rate whatever the latency is: an open loop, not "send when the last one
-- returned". A request that leaves more than 5 ms after its slot is counted as late.
--
-- Mix: 80 % reads (a case, the case list, overdue deadlines, the criteria in force), 20 % writes
-- (an assessment, a recommendation, a decision on a seeded case). Any answer that is not 2xx is
-- an error; the status codes and the first few bodies are reported.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } sio_timespec;
int clock_gettime(int clk_id, sio_timespec *tp);
]])
local ts = ffi.new("sio_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local MIX = {
  { "get_case", 35 },
  { "list_cases", 20 },
  { "overdue", 10 },
  { "criteria", 15 },
  { "post_assessment", 7 },
  { "post_recommendation", 6 },
  { "post_decision", 7 },
}

local ASSESSMENT = '{"skaarer": {"sosial_deltakelse": 1, "beslutninger_dagliglivet": 1, '
  .. '"styre_atferd": 1, "alminnelig_husarbeid": 3, "skaffe_varer": 3, "personlig_hygiene": 2, '
  .. '"av_og_paakledning": 1, "spise": 1, "lage_mat": 2, "ivareta_egen_helse": 2, '
  .. '"bevege_seg_innendoers": 1, "bevege_seg_utendoers": 2, "toalett": 1, "hukommelse": 1, '
  .. '"kommunikasjon": 1, "syn": 1, "hoersel": 9}, "kartlagt_dato": "2020-03-04", '
  .. '"kartlagt_av": "Kari Kartlegger", "signert_dato": "2020-03-04", '
  .. '"hva_er_viktig": "Å bo hjemme og gå tur med hunden"}'
local DECISION = '{"tjeneste": "PB_DAGL", "omfang": "1", "enhet": "timer_per_uke", '
  .. '"fra": "2020-04-01", "maal": "Klare seg hjemme", "vedtaksdato": "2020-03-10"}'

-- main state: the threads, for done()
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

-- thread state (globals: done() reads the counters with thread:get)
cases = {}
interval_ms = 10
only = nil
next_slot = nil
sent = {}
late = 0
statuses = {}
non2xx = 0
responses = 0
bodies = {}
cumulative = {}
total_weight = 0
close_share = 0

function init(args)
  local path, rate = args[1], tonumber(args[2])
  close_share = tonumber(args[3]) or 0
  only = args[4]
  for line in io.lines(path) do
    local id, token = line:match("^(%d+)\t(%S+)$")
    if id then
      table.insert(cases, { id = id, auth = "Bearer " .. token })
    end
  end
  assert(#cases > 0, "no cases in " .. path)
  interval_ms = 1000 / rate
  for _, kw in ipairs(MIX) do
    total_weight = total_weight + kw[2]
    table.insert(cumulative, { kw[1], total_weight })
    sent[kw[1]] = 0
  end
  math.randomseed(1000 + (id or 0))
end

function delay()
  local t = now_ms()
  if next_slot == nil then
    next_slot = t
  end
  local slot = next_slot
  next_slot = next_slot + interval_ms
  if slot < t then
    if t - slot > 5 then
      late = late + 1
    end
    return 0
  end
  return math.floor(slot - t)
end

local function pick_kind()
  if only then
    return only
  end
  local r = math.random() * total_weight
  for _, kw in ipairs(cumulative) do
    if r < kw[2] then
      return kw[1]
    end
  end
  return cumulative[#cumulative][1]
end

function request()
  local kind = pick_kind()
  local c = cases[math.random(#cases)]
  local h = { ["Authorization"] = c.auth }
  if math.random() < close_share then
    h["Connection"] = "close" -- the connection is opened again (see the header)
  end
  sent[kind] = (sent[kind] or 0) + 1
  if kind == "get_case" then
    return wrk.format("GET", "/api/saker/" .. c.id, h)
  elseif kind == "list_cases" then
    return wrk.format("GET", "/api/saker?side=" .. math.random(5) .. "&per_side=20", h)
  elseif kind == "overdue" then
    return wrk.format("GET", "/api/frister/forfalte?dato=2020-12-31", h)
  elseif kind == "criteria" then
    return wrk.format("GET", "/api/kriterier?dato=2020-06-01", h)
  end
  h["Content-Type"] = "application/json"
  if kind == "post_assessment" then
    return wrk.format("POST", "/api/saker/" .. c.id .. "/kartlegginger", h, ASSESSMENT)
  elseif kind == "post_recommendation" then
    return wrk.format("POST", "/api/saker/" .. c.id .. "/anbefalinger", h, "")
  end
  return wrk.format("POST", "/api/saker/" .. c.id .. "/vedtak", h, DECISION)
end

function response(status, headers, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if #bodies < 5 then
      table.insert(bodies, status .. " " .. string.sub(body or "", 1, 200))
    end
  end
end

-- done() runs in the main state and reads the threads' counters; it prints one JSON line
local function json_string(s)
  s = s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("[%c]", " ")
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local by_kind, by_status = {}, {}
  local total_late, total_non2xx, total_responses = 0, 0, 0
  local sample_bodies = {}
  for _, t in ipairs(threads) do
    for k, n in pairs(t:get("sent")) do
      by_kind[k] = (by_kind[k] or 0) + n
    end
    for s, n in pairs(t:get("statuses")) do
      by_status[tostring(s)] = (by_status[tostring(s)] or 0) + n
    end
    total_late = total_late + t:get("late")
    total_non2xx = total_non2xx + t:get("non2xx")
    total_responses = total_responses + t:get("responses")
    for _, b in ipairs(t:get("bodies")) do
      table.insert(sample_bodies, json_string(b))
    end
  end
  local function obj(tbl)
    local parts = {}
    for k, v in pairs(tbl) do
      table.insert(parts, json_string(k) .. ": " .. v)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  local e = summary.errors
  local pct = {}
  for _, p in ipairs({ 50, 75, 90, 99, 99.9 }) do
    table.insert(pct, string.format('"%s": %d', tostring(p), latency:percentile(p)))
  end
  io.write(
    "CASEWORK_RESULT {",
    string.format('"duration_us": %d, ', summary.duration),
    string.format('"requests": %d, ', summary.requests),
    string.format('"bytes": %d, ', summary.bytes),
    string.format(
      '"socket_errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ',
      e.connect,
      e.read,
      e.write,
      e.status,
      e.timeout
    ),
    string.format('"latency_us": {"min": %d, "mean": %.1f, "max": %d, "stdev": %.1f, ', latency.min,
      latency.mean, latency.max, latency.stdev),
    '"percentiles": {', table.concat(pct, ", "), "}}, ",
    '"sent_by_kind": ', obj(by_kind), ", ",
    '"status_counts": ', obj(by_status), ", ",
    string.format('"responses": %d, "non_2xx": %d, "late_sends": %d, ', total_responses,
      total_non2xx, total_late),
    '"error_samples": [', table.concat(sample_bodies, ", "), "]",
    "}\n"
  )
end
