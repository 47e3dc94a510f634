-- wrk script for `make bench`: one request per id, each id used once, counted by status.
--
-- Configured by the environment, so that one script serves every endpoint:
--   BENCH_METHOD   GET or POST
--   BENCH_PATH     path, `{id}` replaced by the request's id
--   BENCH_BODY     body, `{id}` replaced likewise (none for a GET)
--   BENCH_CONTENT_TYPE  the body's content type
--   BENCH_AUTH     optional bearer credential
--   BENCH_COOKIE   optional Cookie header (a session and its CSRF cookie)
--   BENCH_OK_STATUS  the status that counts as answered (empty: any 2xx)
--   BENCH_IDS      optional file of ids, one a line; without it every request is the same
--   BENCH_THREADS  the -t given to wrk (each thread walks its own slice of the ids)
--   BENCH_OUT      where done() writes its JSON summary
-- An id is never sent twice on purpose: once a thread has used its slice it starts over and
-- counts `reused`, which the harness reports as a failure of the run (seed more ids).

local method = os.getenv("BENCH_METHOD") or "POST"
local path_template = os.getenv("BENCH_PATH")
local body_template = os.getenv("BENCH_BODY") or ""
local content_type = os.getenv("BENCH_CONTENT_TYPE") or "application/json"
local auth = os.getenv("BENCH_AUTH")
local cookie = os.getenv("BENCH_COOKIE")
local ok_status = tonumber(os.getenv("BENCH_OK_STATUS") or "")
local ids_file = os.getenv("BENCH_IDS")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local out_file = os.getenv("BENCH_OUT")

local threads = {}
local created = 0

function setup(thread)
   thread:set("tid", created)
   created = created + 1
   table.insert(threads, thread)
end

function init(args)
   ids = {}
   pos = 0
   ok = 0
   non2xx = 0
   reused = 0
   first_status = 0
   first_body = ""
   if ids_file and ids_file ~= "" then
      local n = 0
      for line in io.lines(ids_file) do
         if line ~= "" then
            if n % nthreads == tid then
               table.insert(ids, line)
            end
            n = n + 1
         end
      end
   end
   headers = {}
   if body_template ~= "" then
      headers["Content-Type"] = content_type
   end
   if auth and auth ~= "" then
      headers["Authorization"] = "Bearer " .. auth
   end
   if cookie and cookie ~= "" then
      headers["Cookie"] = cookie
   end
   if body_template == "" then
      body_template = nil
   end
   constant = nil
   if #ids == 0 then
      constant = wrk.format(method, path_template, headers, body_template)
   end
end

function request()
   if constant then
      return constant
   end
   pos = pos + 1
   if pos > #ids then
      pos = 1
      reused = reused + 1
   elseif reused > 0 then
      reused = reused + 1
   end
   local id = ids[pos]
   local path = string.gsub(path_template, "{id}", id)
   local body = body_template and string.gsub(body_template, "{id}", id)
   return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
   if status == ok_status or (not ok_status and status >= 200 and status < 300) then
      ok = ok + 1
   else
      non2xx = non2xx + 1
      if first_status == 0 then
         first_status = status
         first_body = string.sub(body or "", 1, 300)
      end
   end
end

local function json_string(s)
   s = string.gsub(s, "[%c\"\\]", function(c)
      return string.format("\\u%04x", string.byte(c))
   end)
   return "\"" .. s .. "\""
end

function done(summary, latency, requests)
   local total_ok, total_non2xx, total_reused = 0, 0, 0
   local sample_status, sample_body = 0, ""
   for _, thread in ipairs(threads) do
      total_ok = total_ok + thread:get("ok")
      total_non2xx = total_non2xx + thread:get("non2xx")
      total_reused = total_reused + thread:get("reused")
      if sample_status == 0 and thread:get("first_status") ~= 0 then
         sample_status = thread:get("first_status")
         sample_body = thread:get("first_body")
      end
   end
   local e = summary.errors
   local f = assert(io.open(out_file, "w"))
   f:write(string.format(
      '{"requests": %d, "duration_us": %d, "ok": %d, "non2xx": %d, "reused_ids": %d, '
         .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
         .. '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}, '
         .. '"first_failure": {"status": %d, "body": %s}}\n',
      summary.requests, summary.duration, total_ok, total_non2xx, total_reused,
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency.max, latency.mean,
      sample_status, json_string(sample_body)))
   f:close()
end
