-- wrk script of the casework load benchmark (benchmarks/casework_load.py writes its input and
-- reads its output; see benchmarks/README.md).
--
-- Arguments (after `--`): CASES_FILE RATE_PER_THREAD THREADS CLOSE_SHARE LOG_PREFIX TAG
--                         TIMEOUT_MS KIND ROUNDS POOL_PREFIX
--   CASES_FILE       lines "case_id<TAB>bearer token<TAB>fødselsnummer<TAB>rounds<TAB>next"
--                    (the cases written to, a caseworker of their municipality, the case's
--                    person, the write rounds the case has had and its next write)
--   RATE_PER_THREAD  requests per second that each wrk thread sends
--   THREADS          wrk threads (thread i writes to every THREADS-th case only, so that two
--                    threads never write to one case at once)
--   CLOSE_SHARE      share of requests sent with "Connection: close"
--   LOG_PREFIX       each thread appends its write log to LOG_PREFIX.<thread>.log
--   TAG              part of every Idempotency-Key (unique per wrk run)
--   TIMEOUT_MS       a write not answered with 2xx within this time is sent again, same key
--   KIND             "-" for the mix, or send only this kind of request (to time one
--                    endpoint; a write kind then goes to random cases, in no order)
--   ROUNDS           write rounds (assessment → recommendation → decision) a case takes before
--                    the thread opens a new case in its place (0: never, the same cases forever)
--   POOL_PREFIX      thread i takes the identity numbers of its new cases' persons, one a line,
--                    from POOL_PREFIX.<i>.txt (when they run out, the person of the case it
--                    replaces applies again)
--
-- Pacing: every thread keeps one schedule of send times, RATE_PER_THREAD apart, and each of its
-- connections takes the next free slot in `delay()` before it sends. As long as a connection is
-- free when a slot comes, requests go out at the fixed rate whatever the latency is: an open
-- loop, not "send when the last one returned". A request that leaves more than 5 ms after its
-- slot is counted as late.
--
-- Mix (issue 16): the case list 3, a case 3, a write 3. A write is the next step of a case
-- (session 6): an assessment, then a recommendation, then a decision, round after round; after
-- ROUNDS rounds the next step is a new case (`POST /api/saker`, a new person), which takes the
-- old case's place in the thread's set, so that cases keep a realistic history however long the
-- run. Every write carries an Idempotency-Key. A thread has at most one write in hand per case,
-- so a 2xx answer is matched to its write by the case id in it (`sak_id`, or `SAK<id>-` in the
-- vedtak_id; for a new case the person's identity number) and by its shape. A write without a 2xx answer after TIMEOUT_MS — no answer yet,
-- or an answer that is not 2xx and so names no case — is sent again with the same key and body,
-- at most MAX_ATTEMPTS times (then the client gives up and leaves it to the driver). After a
-- repeated write is acknowledged, its case takes no new write for QUARANTINE_MS, so that a late
-- answer to an earlier attempt is never taken for the next write's. Every acknowledged write
-- goes to the thread's log ("A" lines: kind, case, key, status, id, vedtak_id, replayed,
-- attempts, ms since the last attempt); writes unacknowledged when the run ends go to
-- LOG_PREFIX.pending.log ("U" lines: kind, case, key, token, path, body), so that the
-- driver can retry them as a client would; the thread's cases as they stand at the end go to
-- LOG_PREFIX.cases.tsv (the next run's CASES_FILE) and the identity numbers used to
-- LOG_PREFIX.pool.log ("thread<TAB>count"). Any answer that is not 2xx is an error; the
-- status codes and the first few bodies are reported.

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
  { "list_cases", 3 },
  { "get_case", 3 },
  { "post_assessment", 1 },
  { "post_recommendation", 1 },
  { "post_decision", 1 },
}
local MAX_ATTEMPTS = 5
local QUARANTINE_MS = 60000

local ASSESSMENT = '{"skaarer": {"sosial_deltakelse": 1, "beslutninger_dagliglivet": 1, '
  .. '"styre_atferd": 1, "alminnelig_husarbeid": 3, "skaffe_varer": 3, "personlig_hygiene": 2, '
  .. '"av_og_paakledning": 1, "spise": 1, "lage_mat": 2, "ivareta_egen_helse": 2, '
  .. '"bevege_seg_innendoers": 1, "bevege_seg_utendoers": 2, "toalett": 1, "hukommelse": 1, '
  .. '"kommunikasjon": 1, "syn": 1, "hoersel": 9}, "kartlagt_dato": "2020-03-04", '
  .. '"kartlagt_av": "Kari Kartlegger", "signert_dato": "2020-03-04", '
  .. '"hva_er_viktig": "Å bo hjemme og gå tur med hunden"}'
local DECISION = '{"tjeneste": "PB_DAGL", "omfang": "1", "enhet": "timer_per_uke", '
  .. '"fra": "2020-04-01", "maal": "Klare seg hjemme", "vedtaksdato": "2020-03-10"}'
local WRITE = {
  post_assessment = { "/kartlegginger", ASSESSMENT },
  post_recommendation = { "/anbefalinger", "" },
  post_decision = { "/vedtak", DECISION },
  post_case = { "", nil }, -- the body names the new case's person
}
-- a case's steps: after the decision, the next round (or a new case after ROUNDS rounds)
local AFTER = { post_assessment = "post_recommendation", post_recommendation = "post_decision" }
local function application(fnr)
  return '{"fodselsnummer": "' .. fnr .. '", "mottatt": "2020-02-03", '
    .. '"henvendelse": "Søker hjelp til husarbeid og innkjøp"}'
end

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
tag = "x"
timeout_ms = 2000
log = nil
counter = 0
inflight = {} -- case id -> the write in hand on it
inflight_n = 0
unacknowledged = {} -- case id -> its write in hand as a "U" line (flat, for done())
retries = 0
given_up = 0
late_answers = 0
acknowledged = 0
busy_skips = 0
quarantine = {} -- case id -> until when no new write is sent to it
log_prefix = ""
rounds_max = 0
pool = {} -- identity numbers for new cases
pool_used = 0
new_cases = {} -- identity number of a new case in hand -> the case id whose place it takes
slot_state = {} -- slot index -> its CASES_FILE line (flat, for done())

function init(args)
  local path, rate, nthreads = args[1], tonumber(args[2]), tonumber(args[3])
  close_share = tonumber(args[4]) or 0
  log_prefix = args[5]
  tag = args[6]
  timeout_ms = tonumber(args[7])
  only = args[8] ~= "-" and args[8] or nil
  rounds_max = tonumber(args[9]) or 0
  local pool_file = io.open(args[10] .. "." .. id .. ".txt", "r")
  if pool_file then
    for fnr in pool_file:lines() do
      if fnr:match("^%d+$") then
        table.insert(pool, fnr)
      end
    end
    pool_file:close()
  end
  local i = 0
  for line in io.lines(path) do
    local cid, token, fnr, done_rounds, step =
      line:match("^(%d+)\t(%S+)\t(%d+)\t(%d+)\t(%S+)$")
    if cid then
      if i % nthreads == (id - 1) then
        local c = {
          id = cid,
          token = token,
          auth = "Bearer " .. token,
          fnr = fnr,
          rounds = tonumber(done_rounds),
          next = step,
          slot = #cases + 1,
        }
        if c.next == "post_assessment" and rounds_max > 0 and c.rounds >= rounds_max then
          c.next = "post_case"
        end
        table.insert(cases, c)
      end
      i = i + 1
    end
  end
  assert(#cases > 0, "no cases for thread " .. id .. " in " .. path)
  for _, c in ipairs(cases) do
    slot_state[c.slot] = table.concat({ c.id, c.token, c.fnr, c.rounds, c.next }, "\t")
  end
  log = assert(io.open(log_prefix .. "." .. id .. ".log", "a"))
  log:setvbuf("line")
  interval_ms = 1000 / rate
  for _, kw in ipairs(MIX) do
    total_weight = total_weight + kw[2]
    table.insert(cumulative, { kw[1], total_weight })
    sent[kw[1]] = 0
  end
  sent["retry"] = 0
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

local function send_write(w, c)
  local h = { ["Authorization"] = c.auth, ["Idempotency-Key"] = w.key }
  if w.body ~= "" then
    h["Content-Type"] = "application/json"
  end
  if math.random() < close_share then
    h["Connection"] = "close"
  end
  w.sent_at = now_ms()
  w.attempts = w.attempts + 1
  w.live = w.attempts -- the attempt whose answer counts
  return wrk.format("POST", w.path, h, w.body)
end

-- the oldest write in hand past the client's timeout, if any (to be sent again)
local function overdue_write()
  if inflight_n == 0 then
    return nil
  end
  local t = now_ms()
  for _, w in pairs(inflight) do
    if not w.given_up and t - w.sent_at > timeout_ms then
      if w.attempts >= MAX_ATTEMPTS then
        w.given_up = true
        given_up = given_up + 1
      else
        return w
      end
    end
  end
  return nil
end

function request()
  local w = overdue_write()
  if w then
    retries = retries + 1
    sent["retry"] = sent["retry"] + 1
    return send_write(w, w.case)
  end
  local kind = pick_kind()
  local c = cases[math.random(#cases)]
  if WRITE[kind] then
    local tries = 0
    local function busy(x)
      local q = quarantine[x.id]
      return inflight[x.id] ~= nil or (q ~= nil and q > now_ms())
    end
    while busy(c) and tries < 8 do -- one write in hand per case
      c = cases[math.random(#cases)]
      tries = tries + 1
    end
    if busy(c) then
      busy_skips = busy_skips + 1
      kind = "get_case"
    elseif not only then
      kind = c.next -- the case's next step (a new case after its last round)
    end
  end
  sent[kind] = (sent[kind] or 0) + 1
  local h = { ["Authorization"] = c.auth }
  if WRITE[kind] then
    counter = counter + 1
    local wr = WRITE[kind]
    w = {
      kind = kind,
      case = c,
      key = string.format("%s-%d-%d", tag, id, counter),
      path = "/api/saker/" .. c.id .. wr[1],
      body = wr[2],
      attempts = 0,
      answered = 0,
    }
    if kind == "post_case" then
      local fnr = c.fnr -- the same person applies again when the pool has run out
      if pool_used < #pool then
        pool_used = pool_used + 1
        fnr = pool[pool_used]
      end
      w.path, w.body, w.fnr = "/api/saker", application(fnr), fnr
      new_cases[fnr] = c.id
    end
    inflight[c.id] = w
    inflight_n = inflight_n + 1
    unacknowledged[c.id] = table.concat({ "U", kind, c.id, w.key, c.token, w.path, w.body }, "\t")
    return send_write(w, c)
  end
  if math.random() < close_share then
    h["Connection"] = "close" -- the connection is opened again (see the header)
  end
  if kind == "get_case" then
    return wrk.format("GET", "/api/saker/" .. c.id, h)
  end
  return wrk.format("GET", "/api/saker?side=" .. math.random(5) .. "&per_side=20", h)
end

-- which case a 2xx answer to a write is about, and the kind of write it answers
local function answered(body)
  if body:find('"kartlegginger":[', 1, true) then -- a whole case: a new one
    local fnr = body:match('"fodselsnummer":"(%d+)"')
    return fnr and new_cases[fnr], "post_case", nil
  end
  local vid = body:match('"vedtak_id":"([^"]+)"')
  if vid then
    return vid:match("^SAK(%d+)%-"), "post_decision", vid
  end
  local sak = body:match('"sak_id":(%d+)')
  if body:find('"kartlagt_dato"', 1, true) then
    return sak, "post_assessment", nil
  end
  return sak, "post_recommendation", nil
end

function response(status, headers, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if #bodies < 5 then
      table.insert(bodies, status .. " " .. string.sub(body or "", 1, 200))
    end
    return
  end
  if status ~= 201 then
    return -- a read
  end
  local sak, kind, vid = answered(body or "")
  local w = sak and inflight[sak]
  if not w or w.kind ~= kind or w.given_up then
    -- an answer to an attempt the client had given up on (sent again since, and acknowledged
    -- by the answer to the repeat, or left to the driver at the end)
    late_answers = late_answers + 1
    return
  end
  local replayed = headers["Idempotent-Replayed"] or headers["idempotent-replayed"] or ""
  log:write(
    string.format(
      "A\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%.1f\n",
      w.kind,
      sak,
      w.key,
      status,
      body:match('^{"id":(%d+)') or "",
      vid or "",
      replayed,
      w.attempts,
      now_ms() - w.sent_at
    )
  )
  acknowledged = acknowledged + 1
  inflight[sak] = nil
  unacknowledged[sak] = nil
  inflight_n = inflight_n - 1
  local c = w.case
  if not only then -- the case's next step
    if kind == "post_case" then
      new_cases[w.fnr] = nil
      c.id, c.fnr, c.rounds, c.next = body:match('^{"id":(%d+)'), w.fnr, 0, "post_assessment"
      sak = c.id
    elseif kind == "post_decision" then
      c.rounds = c.rounds + 1
      c.next = (rounds_max > 0 and c.rounds >= rounds_max) and "post_case" or "post_assessment"
    else
      c.next = AFTER[kind]
    end
    slot_state[c.slot] = table.concat({ c.id, c.token, c.fnr, c.rounds, c.next }, "\t")
  end
  if w.attempts > 1 then
    -- answers to the earlier attempts may still come: no new write on the case for a while,
    -- so that such an answer is never taken for the next write's
    quarantine[sak] = now_ms() + QUARANTINE_MS
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
  local writes = { retries = 0, given_up = 0, late_answers = 0, acknowledged = 0, busy_skips = 0 }
  local sample_bodies = {}
  local pending, state, used = nil, nil, nil
  for i, t in ipairs(threads) do
    if pending == nil then
      local prefix = t:get("log_prefix")
      pending = assert(io.open(prefix .. ".pending.log", "w"))
      state = assert(io.open(prefix .. ".cases.tsv", "w"))
      used = assert(io.open(prefix .. ".pool.log", "w"))
    end
    for _, u in pairs(t:get("unacknowledged")) do -- writes still without an acknowledgement
      pending:write(u, "\n")
    end
    for _, line in pairs(t:get("slot_state")) do -- the cases as they stand now
      state:write(line, "\n")
    end
    used:write(i, "\t", t:get("pool_used"), "\n")
    for k, n in pairs(t:get("sent")) do
      by_kind[k] = (by_kind[k] or 0) + n
    end
    for s, n in pairs(t:get("statuses")) do
      by_status[tostring(s)] = (by_status[tostring(s)] or 0) + n
    end
    total_late = total_late + t:get("late")
    total_non2xx = total_non2xx + t:get("non2xx")
    total_responses = total_responses + t:get("responses")
    for k, _ in pairs(writes) do
      writes[k] = writes[k] + t:get(k)
    end
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
  if pending then
    pending:close()
    state:close()
    used:close()
  end
  local e = summary.errors
  local pct = {}
  for _, p in ipairs({ 50, 75, 90, 95, 99, 99.9 }) do
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
    '"writes": ', obj(writes), ", ",
    string.format('"responses": %d, "non_2xx": %d, "late_sends": %d, ', total_responses,
      total_non2xx, total_late),
    '"error_samples": [', table.concat(sample_bodies, ", "), "]",
    "}\n"
  )
end
