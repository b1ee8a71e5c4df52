-- Host side of the sandbox: runs once per LuaRuntime with the full standard library, keeps
-- private references to what it needs and hands back the functions the Python engine calls.
-- Scripts never see this chunk's locals; they run in frozen, allow-listed environments.
local clock_ns, sha256_words, caps, host_error, md5_words, secrets, library_source, env,
  responses = ...

local debug_sethook, debug_gethook, debug_setupvalue = debug.sethook, debug.gethook, debug.setupvalue
local metatable_of = debug.getmetatable
local co_create, co_resume, co_status = coroutine.create, coroutine.resume, coroutine.status
local pcall, error, type, next, select = pcall, error, type, next, select
local rawget, rawset, rawequal, rawlen = rawget, rawset, rawequal, rawlen
local setmetatable, getmetatable, tostring = setmetatable, getmetatable, tostring
local math_type, math_huge, math_randomseed = math.type, math.huge, math.randomseed
local s_sub, s_format, s_lower, s_dump = string.sub, string.format, string.lower, string.dump
local utf8_len, t_unpack, t_pack, t_concat = utf8.len, table.unpack, table.pack, table.concat
local t_move = table.move
local load, tonumber, heap_kb = load, tonumber, collectgarbage

-- Per-run state, reset by run(); shared by the hook and the helpers. Custom spans are kept
-- flat, five slots each (name, depth, begin, end, true or the error), so a trace copies them
-- with one table.move. Both buffers are reused; only their first n_logs / 5 * n_spans slots
-- belong to the current run.
local used, budget, block, max_step, step, deadline, deadline_ms, killed = 0, 0, 1, 1, 1, 0, 0, nil
local heap0, input_kb, pace, last_read, forced, spent = 0, 0, 1, 0, false, 0
local logs, n_logs, log_bytes, log_dropped = {}, 0, 0, 0
local spans, n_spans, dropped, depth = {}, 0, 0, 0
-- Metrics (helpers.metrics) are kept flat too, three slots each (kind, name, value), and the
-- attributes of custom spans and the tags of metrics in one buffer, three slots each: the
-- owner (a custom span's number in the run, or minus a metric's), the key and the value.
local metrics, n_metrics, metrics_dropped = {}, 0, 0
-- Whether the trigger is traced (set by begin()): only then do a run's records reach the host.
local tracing = false
local attrs, n_attrs, attrs_dropped = {}, 0, 0

-- The hook reads the clock every `step` VM instructions, at most max_step (a block, 8192). One
-- instruction can copy, compare or collect as much data as the script holds (s .. s, a < b, a
-- full collection when memory runs out), so the step follows two rules, whichever is smaller.
-- The pace starts each run at FIRST_PACE, halves while the last run of instructions took more
-- than PERIOD_NS and doubles while it took under a quarter of that, which keeps a loop of slow
-- instructions to about PERIOD_NS between readings. And step * heap stays under HEAP_WORK
-- bytes (the heap grown since the trigger began, plus the input's size), which bounds the run
-- that follows a switch from cheap to slow instructions to about HEAP_WORK times what an
-- instruction costs per byte it touches (0.1 ns comparing, about 2 ns copying into fresh
-- memory). The price: a script holding H bytes has its clock read every HEAP_WORK / H
-- instructions (each reading costs about a microsecond). Work in library calls is metered
-- apart (spend). bench/engine.py measures both; docs/sandbox.md has the figures.
local PERIOD_NS, FIRST_PACE, BLOCK = 1000000, 512, caps.count_block
local HEAP_WORK = 64 * 1024 * 1024
-- Library work (bytes copied or scanned, see library.lua) after which spend() reads the clock.
local SPEND_CHECK = 16384

-- s, halved until s * heap fits HEAP_WORK (heap in bytes; the script's heap by default).
local function heap_step(s, heap)
  heap = heap or (heap_kb("count") - heap0) * 1024
  while s > 1 and s * heap > HEAP_WORK do s = s // 2 end
  return s
end

-- heap_step of a pace (a power of two): the largest pace the heap allows is kept for the next
-- reading, since a loop that allocates nothing finds the same heap every time.
local cap_heap, cap_pace = -1, 1
local function pace_step(s)
  local heap = (heap_kb("count") - heap0) * 1024
  if s * heap <= HEAP_WORK then return s end
  if heap ~= cap_heap then cap_heap, cap_pace = heap, heap_step(BLOCK, heap) end
  return s < cap_pace and s or cap_pace
end

-- The step after a reading at `now`.
local function step_at(now)
  local took = now - last_read
  last_read, spent = now, 0
  if took > PERIOD_NS then
    while pace > 1 and took > PERIOD_NS do pace, took = pace // 2, took / 2 end
  elseif took * 4 < PERIOD_NS and pace < max_step then
    pace = pace * 2
  end
  return pace_step(pace)
end

-- A hook for one thread (the script's coroutine or one it created). Its hooks fall on
-- multiples of the step, and `used` grows by whole blocks (8192 instructions, a multiple of
-- every step) only, so the instructions a trace reports and the budget counts do not depend
-- on the clock, which moves the step, nor on a few hundred instructions of a library's first
-- call (a pattern's analysis, cached afterwards). A forced firing (below) counts nothing, since
-- the instructions run since the last one are unknown: `used` stays a lower bound. Lua counts
-- a hook's own instructions against the thread's next step, so the hook re-arms itself last,
-- in a tail call, which leaves none to count. Returns the hook and a function that starts it
-- afresh (for a new thread) and returns the count to arm it with.
local function new_hook()
  local armed, pos, counted
  local function hook()
    if not killed then
      if forced then
        forced = false
      else
        pos = pos + armed
      end
      local whole = pos - pos % block
      used, counted = used + (whole - counted), whole
      local now = clock_ns()
      if used > budget then
        killed = "instruction budget exceeded (" .. budget .. ")"
      elseif now > deadline then
        killed = "deadline exceeded (" .. deadline_ms .. " ms)"
      else
        step = step_at(now)
        armed = step - pos % step
        return debug_sethook(hook, "", armed)
      end
    end
    debug_sethook(hook, "", 1)
    error(killed, 0)
  end
  local function start()
    armed, pos, counted = step, 0, 0
    return armed
  end
  return hook, start
end
-- Each run's script coroutine gets this hook, started afresh.
local script_hook, start_script_hook = new_hook()

-- The heap can grow many times over within one step (s = s .. s doubles it each instruction).
-- When library calls have done much work, this makes the running script's hook fire at once
-- when its step is four or more times what its heap now allows, or the clock was last read
-- more than PERIOD_NS ago (the hook then also finds a deadline that has passed).
local function hurry(now)
  local hook, _, count = debug_gethook()
  if hook and (heap_step(count) * 4 <= count or now - last_read > PERIOD_NS) then
    forced = true
    return debug_sethook(hook, "", 1)
  end
end

-- A collection cycle (which allocating starts) ends with this object's finalizer: it makes the
-- next cycle's object and, in a script's thread, makes its hook fire at once. Finalizers run
-- with hooks off, so this one cannot be interrupted (and scripts cannot set __gc), but Lua
-- counts its instructions against the thread's step: the forced firing re-arms it. Collections
-- forced by the memory cap run no finalizers, and when memory is too full for the next object,
-- run() makes it (cycle_armed stays false).
local CYCLE, cycle_armed = {}, false
local function arm_cycle()
  setmetatable({}, CYCLE)
  cycle_armed = true
end
CYCLE.__gc = function()
  cycle_armed = false
  arm_cycle()
  local hook = debug_gethook()
  if hook and not killed then
    forced = true
    return debug_sethook(hook, "", 1)
  end
end
arm_cycle()

-- Charges work a library call is about to do in C, where the hook cannot interrupt it; once
-- SPEND_CHECK has added up since the clock was last read, reads it: stops the script at its
-- deadline (its hook then fires at once, so a pcall cannot swallow the kill), or hurries it.
local function spend(units)
  spent = spent + units
  if spent <= SPEND_CHECK and not killed then return end
  spent = 0
  if not killed then
    local now = clock_ns()
    if now <= deadline then return hurry(now) end
    killed = "deadline exceeded (" .. deadline_ms .. " ms)"
  end
  debug_sethook(debug_gethook(), "", 1)
  error(killed, 0)
end

-- Read-only proxies (frozen libraries and views of the context) have no keys of their own:
-- target_of maps each to the table it shows, so raw reads, iteration and the output check see
-- what a proxy holds, and raw writes to it fail.
local target_of = setmetatable({}, { __mode = "k" })
local view -- a context table's read-only view, defined with the context below

-- next() that sees through a proxy without handing out its table: nested tables come as views.
local function see_next(t, k)
  local target = target_of[t]
  if target == nil then return next(t, k) end
  local nk, nv = next(target, k)
  if type(nv) == "table" then nv = view(nv) end
  return nk, nv
end

local function see_rawget(t, k)
  local target = target_of[t]
  if target == nil then return rawget(t, k) end
  local v = rawget(target, k)
  if type(v) == "table" then return view(v) end
  return v
end

local function see_rawlen(t)
  return rawlen(target_of[t] or t)
end

-- Read-only views of shared tables: writes and raw writes fail, pairs() still enumerates.
local function freeze(source)
  local proxy = setmetatable({}, {
    __index = source,
    __newindex = function() error("attempt to modify a read-only table", 2) end,
    __pairs = function(p) return see_next, p, nil end,
    __len = function() return #source end,
    __metatable = false,
  })
  target_of[proxy] = source
  return proxy
end

-- The bounded library (library.lua), loaded without debug information (see its header).
local library = load(s_dump(load(library_source, "=library", "t"), true), "=library", "b")(caps, spend)
local S = library.string
-- Lock the shared string metatable so no script can see or change it; method calls on strings
-- use the bounded functions.
local string_mt = getmetatable("")
string_mt.__index = freeze(S)
for event, f in next, library.arithmetic do string_mt[event] = f end
string_mt.__metatable = false

-- Coroutines inherit the budget hook; Lua does not copy a Lua hook function to new threads.
local function hooked(f)
  local co = co_create(f)
  local hook, start = new_hook()
  debug_sethook(co, hook, "", killed and 1 or start())
  return co
end
-- coroutine.close is left out: Lua runs <close> handlers of a thread killed by the hook with
-- hooks still disabled, so closing it could loop forever.
local C = {
  create = hooked, resume = co_resume, status = co_status, yield = coroutine.yield,
  isyieldable = coroutine.isyieldable, running = coroutine.running,
  wrap = function(f)
    local co = hooked(f)
    return function(...)
      local r = t_pack(co_resume(co, ...))
      if not r[1] then error(r[2], 0) end
      return t_unpack(r, 2, r.n)
    end
  end,
}

local function safe_setmetatable(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not allowed", 2)
  end
  return setmetatable(t, mt)
end
-- Lua calls a message handler for errors raised inside it with hooks disabled, so the real
-- xpcall could turn a budget kill into an endless, unhooked loop: run the handler after pcall.
local function safe_xpcall(f, handler, ...)
  local r = t_pack(pcall(f, ...))
  if r[1] then return t_unpack(r, 1, r.n) end
  local _, result = pcall(handler, r[2])
  return false, result
end

local function safe_rawset(t, k, v)
  if target_of[t] then error("attempt to modify a read-only table", 2) end
  return rawset(t, k, v)
end

-- Text handed to the host must decode as UTF-8.
local function safe_text(s)
  if type(s) ~= "string" then return "error object is a " .. type(s) end
  if utf8_len(s) then return s end
  return "<non-UTF-8 text>"
end

-- The helpers record logs, custom spans and metrics the same way whether the trigger is traced
-- or not (only a traced run hands them to the host), so a script runs the same VM instructions
-- and allocations either way and meets its budget and memory cap at the same point.
local function add_log(msg)
  if type(msg) ~= "string" then msg = type(msg) == "number" and tostring(msg) or "<" .. type(msg) .. ">" end
  library.spend_text(msg)
  msg = safe_text(msg)
  if n_logs >= caps.max_logs or log_bytes + #msg > caps.max_log_bytes then
    log_dropped = log_dropped + 1
    return
  end
  n_logs = n_logs + 1
  log_bytes = log_bytes + #msg
  logs[n_logs] = msg
end

-- Copies the entries of table t (string or number keys; strings, numbers and booleans kept,
-- other values as their type's name) as attributes of `owner`, at most MAX_ATTRS of them and
-- caps.max_log_bytes (max_attribute_bytes) of keys and values; the rest are counted as dropped.
-- A loop over a large table runs as Lua, under the script's hook.
local MAX_ATTRS, MAX_KEY = 32, 128
local function add_attrs(owner, t)
  if type(t) ~= "table" then return end
  local bytes, kept = 0, 0
  for k, v in see_next, t do
    local tk, tv = type(k), type(v)
    if tk == "number" then k = tostring(k) end
    if tk == "number" or tk == "string" then
      k = safe_text(s_sub(k, 1, MAX_KEY))
      if tv == "string" then
        v = safe_text(v)
      elseif tv == "number" then
        if v ~= v or v == math_huge or v == -math_huge then v = tostring(v) end
      elseif tv ~= "boolean" then
        v = "<" .. tv .. ">"
      end
      local size = #k + (type(v) == "string" and #v or 8)
      if kept >= MAX_ATTRS or bytes + size > caps.max_log_bytes then
        attrs_dropped = attrs_dropped + 1
      else
        kept, bytes = kept + 1, bytes + size
        local at = n_attrs * 3
        n_attrs = n_attrs + 1
        attrs[at + 1], attrs[at + 2], attrs[at + 3] = owner, k, v
      end
    end
  end
end

local frozen_now = 0
-- The clock custom spans read: the host's clock when the trigger is traced, else a C function
-- reached the same way (a table's __call, as lupa calls a Python function) that returns 0 at
-- once; the script's VM runs the same instructions either way.
local span_clock = clock_ns
local NO_CLOCK = setmetatable({}, { __call = rawlen })

-- Ends the custom span at slot `at` with what pcall(fn, ...) gave: its results, or its error
-- raised again (through varargs, so a span allocates no table for them).
local function end_span(at, ok, ...)
  depth = depth - 1
  spans[at + 4] = span_clock()
  if not ok then
    spans[at + 5] = safe_text((...))
    error((...), 0)
  end
  return ...
end

-- Calls fn(...) in a custom span named `name` with `attributes`, or plainly when the run has
-- as many spans or as deep as caps allow.
local function in_span(name, attributes, fn, ...)
  if depth >= caps.max_span_depth or n_spans >= caps.max_spans then
    dropped = dropped + 1
    return fn(...)
  end
  local at = n_spans * 5
  n_spans = n_spans + 1
  spans[at + 1], spans[at + 2], spans[at + 3], spans[at + 4], spans[at + 5] =
    safe_text(s_sub(name, 1, 128)), depth, span_clock(), false, true
  add_attrs(n_spans, attributes)
  depth = depth + 1
  return end_span(at, pcall(fn, ...))
end

-- helpers.trace(name, fn, ...) calls fn(...) in a custom span; helpers.trace(name, attributes,
-- fn), the original's form (attributes may be nil), records the attributes on the span and
-- calls fn().
local function trace(name, fn, ...)
  if type(name) ~= "string" then error("helpers.trace: name must be a string", 2) end
  local first = ...
  if (fn == nil or type(fn) == "table") and type(first) == "function" then
    return in_span(name, fn, first)
  end
  if type(fn) ~= "function" then error("helpers.trace: fn must be a function", 2) end
  return in_span(name, nil, fn, ...)
end

-- helpers.metrics.count and gauge: the metric is recorded on the script's span (at most
-- caps.max_metrics a run; the rest are counted as dropped), its tags as attributes.
local function metric(kind, default)
  local where = "helpers.metrics." .. kind
  return function(name, value, tags)
    if type(name) ~= "string" then error(where .. ": name must be a string", 2) end
    if value == nil then value = default end
    if type(value) ~= "number" then error(where .. ": value must be a number", 2) end
    if tags ~= nil and type(tags) ~= "table" then error(where .. ": tags must be a table", 2) end
    if n_metrics >= caps.max_metrics then
      metrics_dropped = metrics_dropped + 1
      return
    end
    if value ~= value or value == math_huge or value == -math_huge then value = tostring(value) end
    local at = n_metrics * 3
    n_metrics = n_metrics + 1
    metrics[at + 1], metrics[at + 2], metrics[at + 3] = kind, safe_text(s_sub(name, 1, MAX_KEY)), value
    add_attrs(-n_metrics, tags)
  end
end

-- helpers.fetch: there is no network in the sandbox. A response the host supplied for the URL
-- (status, ok, body, read-only) is returned; any other URL is the script's error.
local function fetch(url)
  if type(url) ~= "string" then error("helpers.fetch: url must be a string", 2) end
  local shown = safe_text(s_sub(url, 1, 200))
  if s_lower(s_sub(url, 1, 8)) ~= "https://" then
    error("helpers.fetch: only https URLs are allowed, got '" .. shown .. "'", 2)
  end
  local response = rawget(responses, url)
  if response == nil then
    error("helpers.fetch: no network in the sandbox and no response supplied for '" .. shown .. "'", 2)
  end
  return view(response)
end

-- The digests helpers.hash offers (the original's two), each as its host function and the
-- format of the 64-bit words that function returns.
local DIGESTS = {
  sha256 = { sha256_words, "%016x%016x%016x%016x" },
  md5 = { md5_words, "%016x%016x" },
}

local H = freeze({
  log = add_log,
  now = function() return frozen_now end,
  hash = function(s, algorithm)
    if type(s) ~= "string" and type(s) ~= "number" then error("helpers.hash needs a string", 2) end
    local named = type(algorithm) == "string" and s_lower(algorithm)
    local digest = DIGESTS[algorithm == nil and "sha256" or named]
    if digest == nil then
      named = named and "'" .. safe_text(s_sub(algorithm, 1, 32)) .. "'" or "a " .. type(algorithm)
      error("helpers.hash: unknown algorithm " .. named .. "; use 'sha256' or 'md5'", 2)
    end
    s = tostring(s)
    -- The host cannot take other text, and an error raised in a host call may need memory.
    if not utf8_len(s) then error("helpers.hash needs UTF-8 text", 2) end
    if #s > 256 then spend(#s) end
    return s_format(digest[2], digest[1](s))
  end,
  matches = library.matches,
  trace = trace,
  -- The host's secrets by name (nil for an unknown one); the recorder masks their values
  -- wherever they appear in a trace.
  secret = function(name)
    if type(name) ~= "string" then error("helpers.secret: name must be a string", 2) end
    return rawget(secrets, name)
  end,
  -- The environment values the host allowed, by name (nil for any other name).
  env = function(name)
    if type(name) ~= "string" then error("helpers.env: name must be a string", 2) end
    return rawget(env, name)
  end,
  fetch = fetch,
  metrics = freeze({ count = metric("count", 1), gauge = metric("gauge", nil) }),
})

local BASE = {
  string = freeze(S), table = freeze(library.table), math = freeze(library.math),
  utf8 = freeze(library.utf8), coroutine = freeze(C),
  assert = assert, error = error, ipairs = ipairs, next = see_next, pairs = pairs, pcall = pcall,
  xpcall = safe_xpcall, rawequal = rawequal, rawlen = see_rawlen, rawget = see_rawget,
  rawset = safe_rawset,
  select = select, tonumber = library.tonumber, tostring = tostring, type = type,
  -- The original's scripts wait for helpers.fetch and helpers.secret with await(); here every
  -- helper returns at once, so await hands back what it is given.
  await = function(...) return ... end,
  setmetatable = safe_setmetatable, getmetatable = getmetatable, _VERSION = _VERSION,
  print = function(...)
    local parts = t_pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    add_log(t_concat(parts, " ", 1, parts.n))
  end,
}
local ENV_MT = { __index = BASE, __metatable = false }

-- Read-only views of the context: scripts of one layer share them, so none can change what
-- another sees. Views of the same table are reused (weak caches).
local view_of = setmetatable({}, { __mode = "kv" })
local VIEW_MT = {
  __index = function(p, k)
    local v = target_of[p][k]
    if type(v) ~= "table" then return v end
    return view_of[v] or view(v)
  end,
  __newindex = function() error("context is read-only", 2) end,
  __len = function(p) return #target_of[p] end,
  __pairs = function(p) return see_next, p, nil end,
  __metatable = false,
}
view = function(t)
  local p = view_of[t]
  if p == nil then
    p = setmetatable({}, VIEW_MT)
    target_of[p], view_of[t] = t, p
  end
  return p
end

-- Flattens validated data into one list of values the host decodes in a single call:
-- a table is nil followed by its size (negative for lists), then keys and values in key order.
local function flatten(v, out, n)
  if type(v) ~= "table" then
    n = n + 1
    out[n] = v
    return n
  end
  local len = #v
  local count = 0
  for _ in next, v do count = count + 1 end
  if len > 0 and len == count then
    out[n + 1], out[n + 2] = nil, -len
    n = n + 2
    for i = 1, len do n = flatten(v[i], out, n) end
    return n
  end
  local keys = {}
  for k in next, v do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  out[n + 1], out[n + 2] = nil, count
  n = n + 2
  for i = 1, #keys do
    local key = keys[i]
    local x = v[key]
    if x == nil then x = v[tonumber(key)] end
    n = n + 1
    out[n] = key
    n = flatten(x, out, n)
  end
  return n
end

-- Checks a script's data table without running script code (raw access only). The sizes so
-- far, the tables on the path (a reused table, which a walk that succeeds empties) and
-- whether any table on the walk is a read-only proxy or has a metatable are kept in upvalues.
-- Returns why the data cannot be kept, or nil when it can.
local out_bytes, out_nodes, seen, reshape = 0, 0, {}, false
local function check(v, d)
  local target = target_of[v]
  if target then
    v, reshape = target, true
  elseif metatable_of(v) ~= nil then
    reshape = true
  end
  if d > caps.max_output_depth then return "output too deep (max " .. caps.max_output_depth .. ")" end
  if seen[v] then return "output contains a cyclic table" end
  seen[v] = true
  local max_bytes = caps.max_output_bytes
  out_bytes = out_bytes + 2
  for k, x in next, v do
    out_nodes = out_nodes + 1
    if out_nodes > caps.max_output_nodes then
      return "output too large (over " .. caps.max_output_nodes .. " values)"
    end
    local tk = type(k)
    if tk == "string" then
      out_bytes = out_bytes + #k + 3
    elseif math_type(k) ~= "integer" then
      return "output has a " .. tk .. " key; only string and integer keys are allowed"
    end
    local tx = type(x)
    if tx == "string" then
      if not utf8_len(x) then return "output contains a string that is not UTF-8" end
      out_bytes = out_bytes + #x + 2
    elseif tx == "number" then
      if x ~= x or x == math_huge or x == -math_huge then return "output contains NaN or infinity" end
      out_bytes = out_bytes + 8
    elseif tx == "boolean" then
      out_bytes = out_bytes + 5
    elseif tx == "table" then
      local err = check(x, d + 1)
      if err then return err end
    else
      return "output contains a " .. tx .. " value"
    end
    if out_bytes > max_bytes then return "output too large (max " .. max_bytes .. " bytes)" end
  end
  seen[v] = nil
  if out_bytes > max_bytes then return "output too large (max " .. max_bytes .. " bytes)" end
end

-- A copy of checked data without metatables, each read-only proxy copied as the table it shows.
local function plain_copy(v)
  v = target_of[v] or v
  local copy = {}
  for k, x in next, v do
    if type(x) == "table" then x = plain_copy(x) end
    copy[k] = x
  end
  return copy
end

-- Why a result field cannot be used as the type it must have, or nil when it can.
local function wrong_type(name, value, want)
  if value == nil or type(value) == want then return nil end
  return "result field '" .. name .. "' must be a " .. want .. ", got " .. type(value)
end

-- A result's data holding plain values only, or nil and why it cannot be kept. Data that is
-- plain already is kept as it is: nothing can reach the tables of a script that has ended
-- but what it returned.
local function checked_data(data)
  if data == nil then return nil end
  local err = wrong_type("data", data, "table")
  if err then return nil, err end
  -- A walk that failed or ran out of memory left tables in seen.
  if next(seen) ~= nil then seen = {} end
  out_bytes, out_nodes, reshape = 0, 0, false
  err = check(data, 1)
  -- A long walk leaves a large table holding memory.
  if out_nodes > 64 then seen = {} end
  if err then return nil, err end
  if reshape then return plain_copy(data) end
  return data
end

-- Validates a script's return value: returns status, message, data and, for an explicit denial,
-- what of it had to be ignored. allowed == false always blocks, whatever else the result holds;
-- without it an unusable field is the script's error.
local function check_result(res)
  if res == nil then return "success" end
  if type(res) ~= "table" then return "error", "script must return a table or nil, got " .. type(res) end
  res = target_of[res] or res
  local allowed, msg = rawget(res, "allowed"), rawget(res, "error")
  local bad_msg = wrong_type("error", msg, "string")
  local data, bad_data = checked_data(rawget(res, "data"))
  if allowed == false then
    local ignored
    if bad_msg then msg, ignored = nil, bad_msg .. ": the default message is used" end
    if bad_data then
      bad_data = bad_data .. ": the data is dropped"
      ignored = ignored and ignored .. "; " .. bad_data or bad_data
    end
    return "blocked", msg, data, ignored
  end
  local err = wrong_type("allowed", allowed, "boolean") or bad_msg or bad_data
  if err then return "error", err end
  return "success", msg, data
end

-- Per-trigger state, set by begin().
local ctx, ctx_view, seed = nil, nil, 0
-- The running layer's data and the ids of the scripts that returned it, slots 1..n_pending.
local pending, pending_ids, n_pending = {}, {}, 0
local scripts, plans = {}, {}
-- Reused buffers: a run's facts (only slots 1..n of the latest run count) and what
-- run_trigger returns.
local out, ret = {}, {}

-- Starts a trigger run: the converted input becomes the context, with outputs and prev; the
-- previous run's state is dropped here. input_bytes is the input's
-- measured size, which the hook's step counts as data each script holds (its longest string is
-- at most that long; its tables take more memory but cost no instruction more than a small
-- table does). The heap is measured from here, so what earlier scripts of the trigger left
-- counts for later ones too, until a collection frees it.
local function begin(input, seed_, now, tracing_, input_bytes)
  -- The previous context and outputs go first, so a collection can free them if memory runs
  -- short here.
  ctx, ctx_view = input, nil
  for i = 1, n_pending do pending[i], pending_ids[i] = nil, nil end
  n_pending = 0
  ctx.outputs, ctx.prev = {}, {}
  ctx_view = view(ctx)
  seed, frozen_now, tracing, input_kb = seed_, now, tracing_, input_bytes / 1024
  span_clock = tracing and clock_ns or NO_CLOCK
  heap0 = heap_kb("count") - input_kb
end

-- Appends what only a trace needs, without generic flattening: the log and span counts in one
-- integer (logs + spans * 2^32), dropped spans and logs (flag 16) and instructions (flag 32)
-- when there are any, the logs, then the flat custom spans; then, when there are metrics or
-- attributes (flag 128), their counts in one integer (metrics + attributes * 2^32), dropped
-- metrics and attributes, the flat metrics and the flat attributes. Returns the new end and
-- flags.
local function add_extras(n, flags)
  out[n + 1] = n_logs + (n_spans << 32)
  n = n + 1
  if dropped > 0 or log_dropped > 0 then
    out[n + 1], out[n + 2] = dropped, log_dropped
    n, flags = n + 2, flags | 16
  end
  if used > 0 then
    out[n + 1] = used
    n, flags = n + 1, flags | 32
  end
  t_move(logs, 1, n_logs, n + 1, out)
  t_move(spans, 1, n_spans * 5, n + n_logs + 1, out)
  n = n + n_logs + n_spans * 5
  if n_metrics > 0 or n_attrs > 0 or metrics_dropped > 0 or attrs_dropped > 0 then
    out[n + 1], out[n + 2], out[n + 3] = n_metrics + (n_attrs << 32), metrics_dropped, attrs_dropped
    t_move(metrics, 1, n_metrics * 3, n + 4, out)
    t_move(attrs, 1, n_attrs * 3, n + 4 + n_metrics * 3, out)
    n, flags = n + 3 + (n_metrics + n_attrs) * 3, flags | 128
  end
  return n, flags
end

-- Runs one compiled script under the hook: returns status, message and data, and when facts
-- is true, writes what its trace needs to out[1..n] and returns n too: status, message and
-- flags (1 data, 2 integer keys in data, 4 nested data, 8 extras follow, 16, 32 and 128 see
-- add_extras, 64 what a denial ignored follows), then the extras (only when tracing and the
-- script logged, traced, dropped or was counted by the hook), then what a denial ignored, then
-- the data's keys and values (nested tables flattened).
local function run(script, deadline_, facts)
  used, budget, block, max_step, deadline, deadline_ms, killed =
    0, script.budget, script.block, script.block, deadline_, script.deadline_ms, nil
  n_logs, log_bytes, log_dropped = 0, 0, 0
  n_spans, dropped, depth = 0, 0, 0
  n_metrics, metrics_dropped, n_attrs, attrs_dropped = 0, 0, 0, 0
  math_randomseed(seed, script.seed)
  -- _G is set after, in a slot the constructor already made.
  local env = setmetatable({ context = ctx_view, helpers = H, _G = false }, ENV_MT)
  env._G = env
  local chunk = script.chunk
  debug_setupvalue(chunk, 1, env)
  -- The script runs in its own coroutine so only script code ever carries the hook.
  local co = co_create(chunk)
  if not cycle_armed then arm_cycle() end
  -- The host read the clock just before this call, to set the deadline.
  last_read, forced, spent = deadline_ - deadline_ms * 1000000, false, 0
  pace = max_step < FIRST_PACE and max_step or FIRST_PACE
  step = pace * input_kb * 1024 > HEAP_WORK and heap_step(pace, input_kb * 1024) or pace
  debug_sethook(co, script_hook, "", start_script_hook())
  local ok, res = co_resume(co)
  if ok and co_status(co) ~= "dead" then ok, res = false, "script yielded outside a coroutine" end
  debug_setupvalue(chunk, 1, nil)
  -- Let go of the script's coroutine (a failed one keeps its stack) and globals, so a
  -- collection can free what the script allocated before the work below needs memory.
  co, env = nil, nil
  local status, msg, data, ignored
  if killed then
    status, msg = "killed", killed
  elseif not ok then
    if res == "not enough memory" then
      status, msg = "killed", "memory limit exceeded"
    else
      -- A userdata is an exception a host function raised: the host re-raises an interrupt
      -- (Ctrl-C landing in helpers.hash) instead of it ending as this script's error.
      status, msg = "error", type(res) == "userdata" and host_error(res) or safe_text(res)
    end
  else
    status, msg, data, ignored = check_result(res)
    if msg then msg = safe_text(msg) end
  end
  res = nil
  if data then
    n_pending = n_pending + 1
    pending[n_pending], pending_ids[n_pending] = data, script.id
  end
  if not facts then return status, msg, data end
  local flags, n = 0, 3
  if tracing and (n_logs > 0 or n_spans > 0 or used > 0 or dropped > 0 or log_dropped > 0
      or n_metrics > 0 or metrics_dropped > 0 or attrs_dropped > 0) then
    n, flags = add_extras(n, 8)
  end
  if ignored then
    n, flags = n + 1, flags | 64
    out[n] = ignored
  end
  if data then
    flags = flags | 1
    for k, x in next, data do
      if type(k) ~= "string" then flags = flags | 2 end
      n = n + 1
      out[n] = k
      if type(x) == "table" then
        flags = flags | 4
        n = flatten(x, out, n)
      else
        n = n + 1
        out[n] = x
      end
    end
  end
  out[1], out[2], out[3] = status, msg, flags
  return status, msg, data, n
end

-- Publishes the finished layer's data: outputs[id] per script and prev = merged data.
local function commit_layer()
  local prev = {}
  for i = 1, n_pending do
    local data = pending[i]
    ctx.outputs[pending_ids[i]] = data
    for k, v in next, data do prev[k] = v end
    pending[i], pending_ids[i] = nil, nil
  end
  ctx.prev, n_pending = prev, 0
end

-- Runs a trigger's layers (see add_plan) until one blocks or fails closed, applying each
-- script's failure policy, in one call from the host. Returns status, message, whether the
-- trigger allows, the data's flags (1 data, 2 integer keys, 4 nested) and its number of values,
-- then the merged data's keys and values (nested tables flattened; a later script's keys win;
-- none when the trigger does not allow), then, when facts is true, for each script that ran:
-- its start and end, its number of facts and its facts (see run).
local function run_trigger(name, facts)
  local plan = plans[name]
  local merged, flags = {}, 0
  local blocked, failed, first_error
  local nr, last = 5, #plan
  for number = 1, last do
    local layer = plan[number]
    for i = 1, #layer do
      local entry = layer[i]
      local start = clock_ns()
      local status, msg, data, n
      local script = entry.script
      if script then
        status, msg, data, n = run(script, start + script.deadline_ms * 1000000, facts)
      else
        status, msg, n = entry.status, entry.message, 3
        out[1], out[2], out[3] = status, msg, 0
      end
      if facts then
        ret[nr + 1], ret[nr + 2], ret[nr + 3] = start, clock_ns(), n
        t_move(out, 1, n, nr + 4, ret)
        nr = nr + 3 + n
      end
      if data then
        flags = flags | 1
        for k, v in next, data do
          merged[k] = v
          if type(k) ~= "string" then flags = flags | 2 end
        end
      end
      if status == "blocked" then
        if msg == nil or msg == "" then msg = "blocked by " .. entry.id end
        blocked = blocked or msg
      elseif status ~= "success" and status ~= "skipped" then
        -- A killed script may leave much behind: free it so the runtime stays usable.
        if status == "killed" then heap_kb("collect") end
        local why = entry.id .. ": " .. tostring(msg)
        first_error = first_error or why
        if entry.closed then failed = failed or why end
      end
    end
    if blocked or failed then break end
    if number < last then commit_layer() end
  end
  local status, msg, allowed = "success", nil, true
  if blocked then
    status, msg, allowed, flags = "blocked", blocked, false, 0
  elseif failed then
    status, msg, allowed, flags = "error", failed, false, 0
  elseif first_error then
    status, msg = "error", first_error
  end
  -- The data goes between the header and the facts: the facts move up to make room.
  local nd = 0
  if flags > 0 then
    for _, v in next, merged do
      if type(v) == "table" then flags = flags | 4 end
      nd = nd + 2
    end
    if flags & 4 > 0 then
      nd = 0
      for k, v in next, merged do
        nd = nd + 1
        out[nd] = k
        nd = flatten(v, out, nd)
      end
    end
    t_move(ret, 6, nr, 6 + nd)
    if flags & 4 > 0 then
      t_move(out, 1, nd, 6, ret)
    else
      local at = 5
      for k, v in next, merged do
        ret[at + 1], ret[at + 2] = k, v
        at = at + 2
      end
    end
  end
  ret[1], ret[2], ret[3], ret[4], ret[5] = status, msg, allowed, flags, nd
  return t_unpack(ret, 1, nr + nd)
end

-- A trigger's plan: its layers in order, each a list of scripts as {index, id, whether it
-- fails closed, status, message}, where a script that cannot run has index 0 and the status
-- and message it is recorded with.
local function add_plan(name, layers)
  local plan = {}
  for number = 1, #layers do
    local given, layer = layers[number], {}
    for i = 1, #given do
      local g = given[i]
      layer[i] = { script = scripts[g[1]], id = g[2], closed = g[3], status = g[4], message = g[5] }
    end
    plan[number] = layer
  end
  plans[name] = plan
end

-- Compiles a script once under a host-chosen index; its _ENV upvalue is swapped per run.
local function add_script(index, source, name, id, seed_, budget_, block_, deadline_ms_)
  local chunk, err = load(source, "=" .. name, "t", {})
  if not chunk then return err end
  scripts[index] = { chunk = chunk, id = id, seed = seed_, budget = budget_, block = block_,
    deadline_ms = deadline_ms_ }
  return false
end

-- Nothing outside this chunk needs the dangerous parts of the global table any more.
for _, name in next, { "os", "io", "debug", "package", "require", "load", "loadfile", "dofile",
  "collectgarbage", "python" } do
  _G[name] = nil
end
string.dump = nil

return { begin = begin, run_trigger = run_trigger, add_script = add_script, add_plan = add_plan }
