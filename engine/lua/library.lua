-- The standard library tables scripts see (string, table, utf8, math, and tonumber), bounded.
-- A C function runs no VM instructions, so the hook cannot stop it: every function whose work
-- an argument can make unbounded (a count, a range, a width, a pattern) checks it against a
-- limit first and raises an error that names the limit, and a call that will walk much data
-- charges that work to spend() first, which reads the clock once enough has added up, so a
-- loop of such calls stops at the deadline. docs/sandbox.md lists every function with what
-- bounds it. The bootstrap loads this chunk stripped of debug information, so an error a C
-- function raises inside a wrapper reads like Lua's own ("bad argument #1 to 'concat' ...").
local caps, spend = ...

local type, select, tostring, tonumber, rawlen = type, select, tostring, tonumber, rawlen
local error, next, pcall, load = error, next, pcall, load
local setmetatable, getmetatable = setmetatable, getmetatable
local math_type, tointeger, ult, maxinteger = math.type, math.tointeger, math.ult, math.maxinteger
local math_randomseed = math.randomseed
local metatable_of, getinfo = debug.getmetatable, debug.getinfo
local s_find, s_sub, s_format = string.find, string.sub, string.format
local raw_string, raw_table, raw_utf8 = string, table, utf8

local MAX_VALUES, MAX_REP = caps.max_values, caps.max_rep
-- Work is counted in bytes copied or scanned; a table element or a returned value counts as
-- VALUE bytes (about what each costs in C). A call doing SMALL or less charges nothing: the
-- hook, which counts the wrapper's own instructions, keeps a loop of those to the deadline.
local VALUE, SMALL = 16, 256
-- string.format adds at most 82 bytes per byte of its format ("%.99f" of -1e308 is 410 bytes).
local FORMAT_GROWTH = 82

-- The integer a C function reads from an optional argument (default when it is nil), or false
-- when it is not one (the C function then raises its own error before doing any work).
local function int(v, default)
  if v == nil then return default end
  if math_type(v) == "integer" then return v end
  return tointeger(tonumber(v) or false) or false
end

-- The length table functions read: through __len when there is a metatable (called once,
-- here), else the raw border; false when __len does not give an integer.
local function length(t)
  if metatable_of(t) then return int(#t) end
  return rawlen(t)
end

-- Refuses a walk over elements first..last longer than max_call_values; returns its length
-- (a float, so ranges near the integer limits cannot wrap around).
local function walk(name, first, last)
  local n = (last + 0.0) - first + 1
  if n > MAX_VALUES then
    error(s_format("%s: %.0f elements (max_call_values is %d)", name, n, MAX_VALUES), 3)
  end
  return n > 0 and n or 0
end

-- A plain copy of t[first..last], read through t's metamethods (which run as Lua code, under
-- the hook), so the C function that follows walks a table without any.
local function plain_copy(t, first, last)
  local copy = {}
  for k = first, last do copy[k] = t[k] end
  return copy
end

-- Bounded string patterns: C matching cannot be interrupted by the hook, so refuse any call
-- whose worst case (subject length ^ (non-trailing quantifiers + unanchored)) is too costly.

-- Index of the "]" closing a set whose contents start at j (a leading "^" or "]" belongs to
-- the set; "%" escapes the next character).
local function set_end(p, j, plen)
  if s_sub(p, j, j) == "^" then j = j + 1 end
  if s_sub(p, j, j) == "]" then j = j + 1 end
  while j <= plen and s_sub(p, j, j) ~= "]" do
    if s_sub(p, j, j) == "%" then j = j + 1 end
    j = j + 1
  end
  return j
end

-- Returns the number of multiplying quantifiers and whether the pattern is anchored.
local function analyse(p)
  local plen = #p
  local i, q, last_quant = 1, 0, false
  local anchored = s_sub(p, 1, 1) == "^"
  if anchored then i = 2 end
  while i <= plen do
    local c = s_sub(p, i, i)
    if c == "$" and i == plen then break end
    local item_end
    if c == "%" then
      local d = s_sub(p, i + 1, i + 1)
      if d == "b" or s_find(d, "^%d$") then q = q + 1 end
      if d == "b" then item_end = i + 3
      elseif d == "f" then
        i = set_end(p, i + 3, plen) + 1
        goto continue
      else item_end = i + 1 end
    elseif c == "[" then
      item_end = set_end(p, i + 1, plen)
    else
      item_end = i
    end
    local nxt = s_sub(p, item_end + 1, item_end + 1)
    if nxt == "*" or nxt == "+" or nxt == "-" then
      q = q + 1
      last_quant = true
      i = item_end + 2
    else
      last_quant = false
      i = item_end + 1
      if nxt == "?" then i = i + 1 end
    end
    ::continue::
  end
  if last_quant then q = q - 1 end
  return q, anchored
end

local MAX_SUBJECT, MAX_PATTERN, PATTERN_COST = caps.max_subject, caps.max_pattern, caps.pattern_cost
-- The most a match may cost and still be neither charged nor refused.
local FREE_COST = SMALL < PATTERN_COST and SMALL or PATTERN_COST

-- The longest subject a match (anchors counted) of a pattern plen bytes long, whose cost grows
-- with the subject's length to the power `exponent`, can take free: the wrappers of find,
-- match, gsub and helpers.matches compare a string subject's length with it first and call C
-- at once when it is within (a short match checks no more than this).
local function free_length(plen, exponent)
  local n = 0
  if exponent <= 1 then
    n = FREE_COST // (plen + 1)
  else
    while (n + 1) ^ exponent <= FREE_COST do n = n + 1 end
  end
  return n < MAX_SUBJECT and n or MAX_SUBJECT
end

-- Refuses a costly match (raising at the level of the wrapper's caller); returns its cost.
-- free_of[p] is free_length of a pattern analysed already.
local quants, anchors, free_of, cached = {}, {}, {}, 0
local function pattern_cost(s, p, anchored_ok)
  local ts = type(s)
  if type(p) ~= "string" or (ts ~= "string" and ts ~= "number") then return 0 end
  local n, plen = ts == "string" and #s or #tostring(s), #p
  if n > MAX_SUBJECT then error("string too long for pattern matching (" .. n .. " bytes)", 3) end
  if plen > MAX_PATTERN then error("pattern too long (" .. plen .. " bytes)", 3) end
  local q = quants[p]
  if q == nil then
    if cached >= 512 then quants, anchors, free_of, cached = {}, {}, {}, 0 end
    q, anchors[p] = analyse(p)
    quants[p], free_of[p], cached = q, free_length(plen, anchors[p] and q or q + 1), cached + 1
  end
  local exponent = (anchored_ok and anchors[p]) and q or q + 1
  local cost = exponent <= 1 and n * (plen + 1) or n ^ exponent
  if cost > PATTERN_COST then
    error("pattern too complex for a " .. n .. "-byte subject", 3)
  end
  return cost
end

-- A plain search compares up to the needle's length at every position of the text.
local function plain_cost(s, p)
  local ts, tp = type(s), type(p)
  if ts ~= "string" then
    if ts ~= "number" then return 0 end
    s = tostring(s)
  end
  if tp ~= "string" then
    if tp ~= "number" then return 0 end
    p = tostring(p)
  end
  local n, m = #s, #p
  if m < 2 or m > n then return n end
  local cost = (n - m + 1.0) * m
  if cost > caps.pattern_cost then
    error(s_format("string.find: a plain search for %d bytes in %d is too costly (max_pattern_cost is %d)",
      m, n, caps.pattern_cost), 3)
  end
  return cost
end

local raw_find, raw_match, raw_gsub = raw_string.find, raw_string.match, raw_string.gsub
local S = {}
for k, v in next, raw_string do S[k] = v end
S.dump, S.pack, S.unpack, S.packsize = nil, nil, nil, nil

-- A pattern's cost bounds the work of all the matches it makes (gmatch's iterations included).
S.find = function(s, p, init, plain)
  if type(s) == "string" then
    if not plain then
      if #s <= (free_of[p] or -1) then return raw_find(s, p, init, plain) end
    elseif type(p) == "string" and #s * #p <= SMALL then
      return raw_find(s, p, init, plain)
    end
  end
  local cost = plain and plain_cost(s, p) or pattern_cost(s, p, true)
  if cost > SMALL then spend(cost) end
  return raw_find(s, p, init, plain)
end
S.match = function(s, p, init)
  if type(s) == "string" and #s <= (free_of[p] or -1) then return raw_match(s, p, init) end
  local cost = pattern_cost(s, p, true)
  if cost > SMALL then spend(cost) end
  return raw_match(s, p, init)
end
S.gmatch = function(s, p, init)
  local cost = pattern_cost(s, p, false)
  if cost > SMALL then spend(cost) end
  return raw_string.gmatch(s, p, init)
end
S.gsub = function(s, p, r, n)
  if type(s) == "string" and #s <= (free_of[p] or -1) then return raw_gsub(s, p, r, n) end
  local cost = pattern_cost(s, p, true)
  if cost > SMALL then spend(cost) end
  return raw_gsub(s, p, r, n)
end

S.rep = function(s, n, sep)
  local count = int(n)
  local ts, tsep = type(s), type(sep)
  if count and count > 0 and (ts == "string" or ts == "number")
      and (sep == nil or tsep == "string" or tsep == "number") then
    local size = #tostring(s) * (count + 0.0) + (sep and #tostring(sep) or 0) * (count - 1.0)
    if size > MAX_REP then error(s_format("string.rep result too large (%.0f bytes)", size), 2) end
    if count > MAX_REP then
      error(s_format("string.rep: %d repetitions (max_string_rep is %d)", count, MAX_REP), 2)
    end
    if count + size > SMALL then spend(count + size) end
  end
  return raw_string.rep(s, n, sep)
end

S.format = function(...)
  local fmt = ...
  if type(fmt) == "string" and #fmt * FORMAT_GROWTH > MAX_REP then
    error(s_format("string.format: a %d-byte format may pad its result too far (max_string_rep is %d)",
      #fmt, MAX_REP), 2)
  end
  local r = raw_string.format(...)
  if #r > SMALL then spend(#r) end
  return r
end

-- The number of bytes string.byte returns for s, i, j (its own clamping), or false.
local function byte_count(s, i, j)
  local len = #tostring(s)
  local first = int(i, 1)
  local last = int(j, first)
  if not first or not last then return false end
  if first < 0 then first = first < -len and 1 or len + first + 1 elseif first == 0 then first = 1 end
  if last > len then last = len elseif last < 0 then last = last < -len and 0 or len + last + 1 end
  return last - first + 1
end

S.byte = function(s, i, j)
  if type(s) == "string" or type(s) == "number" then
    local n = byte_count(s, i, j)
    if n and n > MAX_VALUES then
      error(s_format("string.byte: %d values (max_call_values is %d)", n, MAX_VALUES), 2)
    end
    if n and n * VALUE > SMALL then spend(n * VALUE) end
  end
  return raw_string.byte(s, i, j)
end

-- Charges the length of a string argument.
local function spend_text(s)
  if type(s) == "string" and #s > SMALL then spend(#s) end
end

S.upper = function(...)
  local s = ...
  if type(s) == "string" and #s > SMALL then spend(#s) end
  return raw_string.upper(...)
end
S.lower = function(...)
  local s = ...
  if type(s) == "string" and #s > SMALL then spend(#s) end
  return raw_string.lower(...)
end
S.reverse = function(...)
  local s = ...
  if type(s) == "string" and #s > SMALL then spend(#s) end
  return raw_string.reverse(...)
end

local T = {}
for k, v in next, raw_table do T[k] = v end

T.concat = function(t, sep, i, j)
  if type(t) ~= "table" then return raw_table.concat(t, sep, i, j) end
  if i == nil and j == nil and not metatable_of(t) then
    local n = rawlen(t)
    if n > MAX_VALUES then walk("table.concat", 1, n) end
    local r = raw_table.concat(t, sep)
    if n * VALUE + #r > SMALL then spend(n * VALUE + #r) end
    return r
  end
  local first, last = int(i, 1), int(j, nil)
  if last == nil then
    last = length(t)
    if not last then error("object length is not an integer", 2) end
  end
  if not first or not last then return raw_table.concat(t, sep, i, j) end
  local n = walk("table.concat", first, last)
  if n > 0 and metatable_of(t) then t = plain_copy(t, first, last) end
  local r = raw_table.concat(t, sep, first, last)
  if n * VALUE + #r > SMALL then spend(n * VALUE + #r) end
  return r
end

T.unpack = function(t, i, j)
  if type(t) ~= "table" and type(t) ~= "string" then return raw_table.unpack(t, i, j) end
  local first, last = int(i, 1), int(j, nil)
  if last == nil then
    last = length(t)
    if not last then error("object length is not an integer", 2) end
  end
  if not first or not last then return raw_table.unpack(t, i, j) end
  local n = walk("table.unpack", first, last)
  if n > 0 and metatable_of(t) then t = plain_copy(t, first, last) end
  if n * VALUE > SMALL then spend(n * VALUE) end
  return raw_table.unpack(t, first, last)
end

T.move = function(a1, f, e, t, a2)
  local from, to, dest = int(f), int(e), int(t)
  local t1, t2 = type(a1), type(a2)
  if not (from and to and dest) or (t1 ~= "table" and t1 ~= "string")
      or (a2 ~= nil and t2 ~= "table") or to < from then
    return raw_table.move(a1, f, e, t, a2)
  end
  local n = walk("table.move", from, to)
  if not metatable_of(a1) and (a2 == nil or not metatable_of(a2)) then
    if n * VALUE > SMALL then spend(n * VALUE) end
    return raw_table.move(a1, from, to, dest, a2)
  end
  -- Through metamethods, in Lua, as C would do it.
  n = to - from + 1
  if dest > maxinteger - n + 1 then error("bad argument #4 to 'move' (destination wrap around)", 2) end
  local out = a2 == nil and a1 or a2
  if dest > to or dest <= from or (a2 ~= nil and a1 ~= a2) then
    for k = 0, n - 1 do out[dest + k] = a1[from + k] end
  else
    for k = n - 1, 0, -1 do out[dest + k] = a1[from + k] end
  end
  return out
end

T.insert = function(t, ...)
  if select("#", ...) ~= 2 or type(t) ~= "table" then return raw_table.insert(t, ...) end
  local pos, v = ...
  local size = length(t)
  if not size then error("object length is not an integer", 2) end
  local p = int(pos)
  if not p then return raw_table.insert(t, pos, v) end
  local e = size + 1
  if not ult(p - 1, e) then error("bad argument #2 to 'insert' (position out of bounds)", 2) end
  local n = walk("table.insert", p + 1, e)
  if not metatable_of(t) then
    if n * VALUE > SMALL then spend(n * VALUE) end
    return raw_table.insert(t, p, v)
  end
  for k = e, p + 1, -1 do t[k] = t[k - 1] end
  t[p] = v
end

T.remove = function(t, pos)
  if type(t) ~= "table" then return raw_table.remove(t, pos) end
  local size = length(t)
  if not size then error("object length is not an integer", 2) end
  local p = int(pos, size)
  if not p then return raw_table.remove(t, pos) end
  if p ~= size and p - 1 ~= size and not ult(p - 1, size) then
    error("bad argument #2 to 'remove' (position out of bounds)", 2)
  end
  local n = walk("table.remove", p, size)
  if not metatable_of(t) then
    if n * VALUE > SMALL then spend(n * VALUE) end
    return raw_table.remove(t, p)
  end
  local value = t[p]
  for k = p, size - 1 do t[k] = t[k + 1] end
  t[p < size and size or p] = nil
  return value
end

-- Whether C may sort t[1..n] in its own order quickly: at most SHORT_SORT numbers and strings
-- of at most SHORT_TEXT bytes (about a millisecond of comparisons). Up to TINY_SORT elements
-- need no look: their few comparisons each read at most the shorter string, a few times the
-- script's text in all, as a call on data at the memory cap does.
local SHORT_SORT, SHORT_TEXT, TINY_SORT = 1024, 256, 4
local function short_sort(t, n)
  if n > SHORT_SORT then return false end
  for k = 1, n do
    local v = t[k]
    if math_type(v) == nil and (type(v) ~= "string" or #v > SHORT_TEXT) then return false end
  end
  return true
end

-- Other sorts compare in Lua, so the hook bounds them however long they are: a comparator
-- written in C is called from a Lua one, and the default order has a chunk name of its own, so
-- its errors read "table.sort:1: attempt to compare ...".
local less = load("local a, b = ... return a < b", "=table.sort")
T.sort = function(t, comp)
  if type(t) ~= "table" or (comp ~= nil and type(comp) ~= "function") then
    return raw_table.sort(t, comp)
  end
  local mt = metatable_of(t)
  local size = mt and int(#t) or rawlen(t)
  if not size then error("object length is not an integer", 2) end
  if size < 2 then return end
  if size > MAX_VALUES then walk("table.sort", 1, size) end
  if comp == nil and not mt and (size <= TINY_SORT or short_sort(t, size)) then
    if size * VALUE > SMALL then spend(size * VALUE) end
    return raw_table.sort(t)
  end
  local order = comp or less
  if comp and getinfo(comp, "S").what == "C" then order = function(a, b) return comp(a, b) end end
  if not mt then return raw_table.sort(t, order) end
  local copy = setmetatable(plain_copy(t, 1, size), { __len = function() return size end })
  raw_table.sort(copy, order)
  for k = 1, size do t[k] = copy[k] end
end

local U = {}
for k, v in next, raw_utf8 do U[k] = v end

U.codepoint = function(s, i, j, lax)
  if type(s) == "string" or type(s) == "number" then
    local len = #tostring(s)
    local first = int(i, 1)
    if first and first < 0 then first = -first > len and 0 or len + first + 1 end
    local last = first and int(j, first)
    if last and last < 0 then last = -last > len and 0 or len + last + 1 end
    -- C refuses a range outside the string before decoding anything.
    local n = last and first >= 1 and last <= len and last - first + 1 or 0
    if n > MAX_VALUES then
      error(s_format("utf8.codepoint: %d bytes (max_call_values is %d)", n, MAX_VALUES), 2)
    end
    if n * VALUE > SMALL then spend(n * VALUE) end
  end
  return raw_utf8.codepoint(s, i, j, lax)
end
U.len = function(s, i, j, lax)
  spend_text(s)
  return raw_utf8.len(s, i, j, lax)
end
U.offset = function(s, n, i)
  spend_text(s)
  return raw_utf8.offset(s, n, i)
end

local M = {}
for k, v in next, math do M[k] = v end
M.tointeger = function(...)
  spend_text(...)
  return tointeger(...)
end
M.randomseed = function(a, b)
  if math_type(a) ~= "integer" then error("math.randomseed needs an integer seed", 2) end
  math_randomseed(a, math_type(b) == "integer" and b or 0)
end

local function bounded_tonumber(...)
  spend_text(...)
  return tonumber(...)
end

-- Arithmetic on strings ("10" + 1) runs the string metatable's C metamethods, which parse the
-- whole string: a long operand is charged, as tonumber's is. An error reads as the C one, at
-- the script's line.
local arithmetic = {}
local string_mt = getmetatable("")
for _, event in next, { "__add", "__sub", "__mul", "__div", "__mod", "__pow", "__unm", "__idiv" } do
  local raw = string_mt[event]
  arithmetic[event] = function(a, b)
    spend_text(a)
    spend_text(b)
    local ok, r = pcall(raw, a, b)
    if not ok then error(r, 2) end
    return r
  end
end

-- helpers.matches: whether s matches p, with the pattern bounds.
local function matches(s, p)
  if type(s) ~= "string" or type(p) ~= "string" then return false end
  if #s <= (free_of[p] or -1) then return s_find(s, p) ~= nil end
  local cost = pattern_cost(s, p, true)
  if cost > SMALL then spend(cost) end
  return s_find(s, p) ~= nil
end

return {
  string = S, table = T, utf8 = U, math = M, tonumber = bounded_tonumber, matches = matches,
  arithmetic = arithmetic, spend_text = spend_text,
}
