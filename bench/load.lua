-- wrk script for bench/load.sh: a mix of console pages (session cookie), API
-- reads and API writes (facilities created; bearer token). Updates are left to
-- bench/load_client.py, which knows when a create was answered.
--   LAOXIAO_COOKIE="session=…" LAOXIAO_TOKEN=… PERSON_IDS="a b c" FACILITY_IDS="x y" \
--     wrk -t2 -c50 -d30s -s bench/load.lua http://127.0.0.1:18940
-- wrk reports non-2xx/3xx answers and socket errors; load.sh requires both to be 0.

local cookie = os.getenv("LAOXIAO_COOKIE") or ""
local token = os.getenv("LAOXIAO_TOKEN") or ""
local function words(s)
  local t = {}
  for w in string.gmatch(s or "", "%S+") do t[#t + 1] = w end
  return t
end
local people = words(os.getenv("PERSON_IDS"))
local facilities = words(os.getenv("FACILITY_IDS"))

local pages = {
  "/", "/?area=330402", "/?area=330402007",
  "/console/facilities", "/console/elderly", "/console/infants",
  "/console/elderly?age=80_89", "/console/elderly?area=330402&age=90_plus",
  "/console/facilities?kind=elderly_institution&area=330481",
  "/console/elderly?q=%E7%8E%8B", "/console/facilities?q=%E5%B1%85%E5%AE%B6",
}
local apis = {
  "/api/facilities?limit=50", "/api/people?role=elderly&limit=50",
  "/api/people?limit=50&area=330424", "/api/people?role=elderly&min_age=80&limit=50",
}

local thread_no = 0
local counter = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

function init(args)
  math.randomseed(os.time() + (tid or 0) * 7919)
end

local function pick(t) return t[math.random(#t)] end

function request()
  local r = math.random(100)
  if r <= 35 then
    return wrk.format("GET", pick(pages), { ["Cookie"] = cookie })
  elseif r <= 55 and #people > 0 then
    return wrk.format("GET", "/console/people/" .. pick(people), { ["Cookie"] = cookie })
  elseif r <= 65 and #facilities > 0 then
    return wrk.format("GET", "/console/facilities/" .. pick(facilities), { ["Cookie"] = cookie })
  elseif r <= 92 then
    return wrk.format("GET", pick(apis), { ["Authorization"] = "Bearer " .. token })
  end
  counter = counter + 1
  local id = string.format("WRK%d-%d-%d", os.time() % 100000, tid or 0, counter)
  local h = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  local body = string.format(
    '{"id":"%s","name":"wrk压测养老院%s","kind":"elderly_institution","area_code":"330402007","beds":%d}',
    id, id, math.random(10, 400))
  return wrk.format("POST", "/api/facilities", h, body)
end
