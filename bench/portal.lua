-- wrk script for bench/portal.sh: the public place search as families use it,
-- as JSON (/portal/places.json), rotating over searches by distance from
-- points across the city with the portal's filters.
local points = {
  {120.755, 30.746}, {120.92, 30.84}, {120.56, 30.62}, {121.02, 30.70},
  {120.68, 30.52}, {120.94, 30.54}, {120.50, 30.80}, {120.80, 30.88},
}
local filters = {
  "", "&kind=elderly", "&kind=childcare", "&kind=elderly_institution&vacancies=1",
  "&kind=childcare_institution&inclusive=1", "&within=5", "&within=10&kind=elderly",
  "&fee_max=3000", "&rating=star2", "&open=weekend", "&kind=village_care_station&within=3",
  "&vacancies=1&sort=vacancies",
}
local paths = {}
for _, p in ipairs(points) do
  for _, f in ipairs(filters) do
    paths[#paths + 1] = string.format("/portal/places.json?lng=%.3f&lat=%.3f%s", p[1], p[2], f)
  end
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
