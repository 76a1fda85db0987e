// Browser tests of the web console (the registers, overview, plan, indicators,
// subsidies and planning pages): the shared harness (./harness.mjs) starts
// `laoxiao demo --scale 0.01` and one headless Debian chromium page.

import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ctx, useDemo, shot, mapReady, login, axeViolations, assertAccessible, scrollsSideways, runId,
} from "./harness.mjs";

useDemo();

test("login: anonymous callers are sent to the login page, which lists the demo accounts", async () => {
  const r = await ctx.page.goto(`${ctx.base}/console/elderly`);
  assert.ok(r.ok());
  assert.match(ctx.page.url(), /\/console\/login\?next=/);
  const users = await ctx.page.locator("#demo-accounts tbody td:first-child").allTextContents();
  for (const u of ["city", "county", "town", "village", "operator", "inspector", "auditor", "analyst"]) {
    assert.ok(users.map((x) => x.trim()).includes(u), `demo account ${u} listed`);
  }
  await shot("00-login");
  // A wrong password is refused with a message, then the city administrator logs in.
  await ctx.page.fill("#i-username", "city");
  await ctx.page.fill("#i-password", "wrong");
  await ctx.page.click("#login-submit");
  await ctx.page.waitForSelector("#login-error");
  await login("city", "demo-city-2026");
  assert.match(await ctx.page.textContent("#current-user"), /city/);
});

test("overview in Chinese with figures and the map", async () => {
  await ctx.page.goto(`${ctx.base}/?lang=zh-CN`);
  assert.equal(await ctx.page.getAttribute("html", "lang"), "zh-CN");
  assert.match(await ctx.page.textContent("h1"), /概览/);
  const elderly = await ctx.page.textContent('[data-fig="elderly_60"]');
  assert.ok(Number(elderly.replace(/,/g, "")) > 0, `elderly 60+ is ${elderly}`);
  await mapReady("overview-map");
  // The table lists the 7 counties.
  assert.equal(await ctx.page.locator("table.data tbody tr").count(), 7);
  await shot("01-overview-zh");
});

test("keyboard: the first Tab reaches the skip link", async () => {
  await ctx.page.goto(`${ctx.base}/`);
  await ctx.page.keyboard.press("Tab");
  const focused = await ctx.page.evaluate(() => document.activeElement?.className);
  assert.equal(focused, "skip");
});

test("switch to English and back", async () => {
  await ctx.page.goto(`${ctx.base}/`);
  await ctx.page.click("#lang-switch");
  await ctx.page.waitForLoadState("load");
  assert.equal(await ctx.page.getAttribute("html", "lang"), "en");
  assert.match(await ctx.page.textContent("h1"), /at a glance/);
  await mapReady("overview-map");
  await shot("02-overview-en");
  // The cookie keeps the language on the next page.
  await ctx.page.goto(`${ctx.base}/console/plan`);
  assert.equal(await ctx.page.getAttribute("html", "lang"), "en");
  await ctx.page.click("#lang-switch");
  await ctx.page.waitForLoadState("load");
  assert.equal(await ctx.page.getAttribute("html", "lang"), "zh-CN");
});

test("pick an area: county, then town", async () => {
  await ctx.page.goto(`${ctx.base}/`);
  await ctx.page.selectOption("#area-select", "330402");
  await ctx.page.click("#area-picker button[type=submit]");
  await ctx.page.waitForURL(/area=330402/);
  const crumbs = await ctx.page.textContent(".crumbs");
  assert.match(crumbs, /嘉兴市/);
  assert.match(crumbs, /南湖区/);
  await mapReady("overview-map");
  await shot("03-overview-county");
  const town = await ctx.page.locator("#area-select option").nth(1).getAttribute("value");
  await ctx.page.selectOption("#area-select", town);
  await ctx.page.click("#area-picker button[type=submit]");
  await ctx.page.waitForURL(new RegExp(`area=${town}`));
  assert.equal(await ctx.page.locator(".crumbs li").count(), 3);
  await mapReady("overview-map");
  await shot("04-overview-town");
});

test("facilities: filter by kind, open a detail page", async () => {
  await ctx.page.goto(`${ctx.base}/console/facilities`);
  const before = await ctx.page.textContent("#results-count");
  await ctx.page.selectOption("#f-kind", "elderly_institution");
  await ctx.page.waitForURL(/kind=elderly_institution/);
  await ctx.page.waitForFunction((b) => document.querySelector("#results-count")?.textContent !== b, before);
  const kinds = await ctx.page.locator("#results tbody tr td:nth-child(2)").allTextContents();
  assert.ok(kinds.length > 0, "some care homes");
  for (const k of kinds) assert.equal(k.trim(), "养老机构");
  await shot("05-facilities-filtered");
  await ctx.page.locator("#results tbody tr th a").first().click();
  await ctx.page.waitForURL(/\/console\/facilities\/[^/?]+/);
  await mapReady("detail-map");
  assert.ok((await ctx.page.textContent("h1")).trim().length > 0);
  await shot("06-facility-detail");
});

test("facilities: next page by keyset cursor", async () => {
  await ctx.page.goto(`${ctx.base}/console/facilities?sort=name`);
  const first = await ctx.page.locator("#results tbody tr th a").first().textContent();
  await ctx.page.click("#next-page");
  await ctx.page.waitForURL(/after=/);
  await ctx.page.waitForFunction(
    (f) => document.querySelector("#results tbody tr th a")?.textContent !== f,
    first,
  );
});

test("facility form shows the API's validation messages", async () => {
  await ctx.page.goto(`${ctx.base}/console/facilities/new`);
  await ctx.page.fill("#i-id", "TEST-1");
  await ctx.page.fill("#i-name", "测试养老院");
  await ctx.page.fill("#i-beds", "10");
  await ctx.page.fill("#i-nursing_beds", "20");
  await ctx.page.click("#save");
  await ctx.page.waitForSelector("#form-errors");
  const errors = await ctx.page.textContent("#form-errors");
  assert.match(errors, /nursing beds exceed the 10 beds/);
  assert.match(errors, /area_code/);
  await shot("07-facility-form-errors");
});

test("elderly list: filter, masked ID numbers, detail", async () => {
  await ctx.page.goto(`${ctx.base}/console/elderly`);
  await ctx.page.selectOption("#f-age", "80_89");
  await ctx.page.waitForURL(/age=80_89/);
  await ctx.page.waitForTimeout(500);
  const ids = await ctx.page.locator("#results tbody td.mono").allTextContents();
  assert.ok(ids.length > 0, "some people aged 80–89");
  for (const id of ids) assert.match(id.trim(), /^\d{6}\*{8}[\dX]{4}$/);
  await shot("08-elderly");
  await ctx.page.locator("#results tbody tr th a").first().click();
  await ctx.page.waitForURL(/\/console\/people\//);
  assert.match(await ctx.page.textContent("#id-number"), /\*{8}/);
  await mapReady("detail-map");
  await shot("09-person");
});

test("infants list", async () => {
  await ctx.page.goto(`${ctx.base}/console/infants`);
  assert.match(await ctx.page.textContent("h1"), /婴幼儿/);
  await shot("10-infants");
});

test("plan: 44 indicators and 72 key projects", async () => {
  await ctx.page.goto(`${ctx.base}/console/plan`);
  const ind = await ctx.page.locator("#indicators tbody tr:not(.group)").count();
  const proj = await ctx.page.locator("#projects tbody tr").count();
  assert.equal(ind, 44);
  assert.equal(proj, 72);
  await shot("11-plan");
});

test("import: a bad row is listed with its reason and nothing is written", async () => {
  const csv = [
    "id,name,kind,area_code,beds,nursing_beds,filing_status,status",
    `BT-${runId}-1,浏览器测试养老院,elderly_institution,330402007029,30,10,not_required,operating`,
    `BT-${runId}-2,浏览器测试坏行,elderly_institution,330402007029,10,20,not_required,operating`,
  ].join("\n");
  const file = join(ctx.work, "facilities-bad.csv");
  writeFileSync(file, csv);
  await ctx.page.goto(`${ctx.base}/console/import`);
  await ctx.page.selectOption("#i-kind", "facilities");
  await ctx.page.setInputFiles("#i-file", file);
  await ctx.page.click("#check-import");
  await ctx.page.waitForSelector("#import-rejected");
  const text = await ctx.page.textContent("#import-rejected");
  assert.match(text, /nursing beds exceed/);
  const rows = await ctx.page.locator("#import-rejected tbody td:first-child").allTextContents();
  assert.deepEqual(rows.map((r) => r.trim()), ["3"]); // the header is row 1
  await shot("12-import-rejected");
  await assertAccessible("import with a rejected row");
  const r = await ctx.page.goto(`${ctx.base}/console/facilities/BT-${runId}-1`);
  assert.equal(r.status(), 404, "dry run wrote nothing");
});

test("import: a good file is previewed, then confirmed", async () => {
  const csv = [
    "id,name,kind,area_code,beds,nursing_beds,filing_status,status",
    `BT-${runId}-1,浏览器测试养老院,elderly_institution,330402007029,30,10,not_required,operating`,
  ].join("\n");
  const file = join(ctx.work, "facilities-good.csv");
  writeFileSync(file, csv);
  await ctx.page.goto(`${ctx.base}/console/import`);
  await ctx.page.selectOption("#i-kind", "facilities");
  await ctx.page.setInputFiles("#i-file", file);
  await ctx.page.click("#check-import");
  await ctx.page.waitForSelector("#import-preview");
  await shot("13-import-preview");
  await assertAccessible("import preview");
  await ctx.page.click("#confirm-import");
  await ctx.page.waitForSelector("#import-done");
  await assertAccessible("import done");
  const r = await ctx.page.goto(`${ctx.base}/console/facilities/BT-${runId}-1`);
  assert.equal(r.status(), 200);
});

/** The generic registers, each with a list, record page and form from its declaration. */
const REGISTER_KEYS = ["staff", "services", "enrolments", "residences", "student_cohorts"];


test("tablet width: no page scrolls sideways", async () => {
  await ctx.page.setViewportSize({ width: 768, height: 1024 });
  try {
    const pages = [
      ["14-tablet-overview", "/", "overview-map"],
      ["15-tablet-facilities", "/console/facilities"],
      ["16-tablet-facility", null, "detail-map"],
      ["17-tablet-elderly", "/console/elderly"],
      ["18-tablet-person", null, "detail-map"],
      ["19-tablet-infants", "/console/infants"],
      ["19a-tablet-plan", "/console/plan"],
      ["19h-tablet-indicators", "/console/indicators"],
      ["19j-tablet-subsidies", "/console/subsidies"],
      ["19k-tablet-whatif", "/console/subsidies/whatif?example=centenarian_800"],
      ["19l-tablet-planning", "/console/planning?area=330402"],
      ["19m-tablet-planning-access", "/console/planning/access?area=330402"],
      ["19n-tablet-planning-siting", "/console/planning/siting"],
      ["19i-tablet-indicator", "/console/indicators/14", "indicator-map"],
      ["19b-tablet-import", "/console/import"],
      ["19c-tablet-transfers", "/console/transfers"],
      ["19d-tablet-facility-form", "/console/facilities/new"],
      ["19e-tablet-overview-en", "/?lang=en"],
      ...REGISTER_KEYS.map((k, i) => [`19g${i}-tablet-${k}`, `/console/${k}`]),
    ];
    for (const [name, path, map] of pages) {
      if (path) {
        await ctx.page.goto(`${ctx.base}${path}`);
      } else {
        // A detail page: the first row's link on the list just visited.
        await ctx.page.locator("#results tbody tr th a").first().click();
        await ctx.page.waitForLoadState("load");
      }
      if (map) await mapReady(map);
      assert.equal(await scrollsSideways(), false, `${ctx.page.url()} scrolls sideways at 768 px`);
      await shot(name);
    }
  } finally {
    await ctx.page.setViewportSize({ width: 1280, height: 900 });
    await ctx.page.goto(`${ctx.base}/?lang=zh-CN`);
  }
});

test("roles: a village worker sees their village only; the auditor reads the trail", async () => {
  // The city administrator's list holds rows outside any one village: the
  // attribute the check below reads carries real codes.
  await ctx.page.goto(`${ctx.base}/console/elderly`);
  const cityAreas = await ctx.page.locator("#results tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.areaCode));
  assert.ok(cityAreas.length > 0 && cityAreas.every((a) => /^\d{12}$/.test(a)), `${cityAreas}`);
  await ctx.page.click("#logout");
  await ctx.page.waitForSelector("#login-form");
  const villageRow = ctx.page.locator("#demo-accounts tbody tr", { hasText: "demo-village-2026" });
  const villageArea = (await villageRow.textContent()).match(/\b(\d{12})\b/)?.[1];
  assert.ok(villageArea, "the login page gives the village account's area code");
  assert.ok(cityAreas.some((a) => !a.startsWith(villageArea)), "the city sees beyond the village");
  await login("village", "demo-village-2026");
  const r = await ctx.page.goto(`${ctx.base}/console/elderly?area=330411`);
  assert.equal(r.status(), 404, "another county is out of reach");
  const imp = await ctx.page.goto(`${ctx.base}/console/import`);
  assert.equal(imp.status(), 403);
  // Every row of every list lies in the worker's village (its area code, from the login page).
  for (const list of ["elderly", "infants", "facilities"]) {
    await ctx.page.goto(`${ctx.base}/console/${list}`);
    const areas = await ctx.page.locator("#results tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.areaCode));
    if (list === "elderly") assert.ok(areas.length > 0, "the village has elderly people to check");
    for (const a of areas) {
      assert.ok(a && a.startsWith(villageArea), `${list}: a row in ${a}, outside the village ${villageArea}`);
    }
  }
  await shot("19f-village-elderly");
  await ctx.page.click("#logout");
  await ctx.page.waitForSelector("#login-form");
  await login("auditor", "demo-auditor-2026");
  await ctx.page.goto(`${ctx.base}/console/audit?action=import`);
  await ctx.page.waitForSelector("#audit-table");
  // Filters not given are empty, not the text "None" (which would then be searched for).
  for (const f of ["actor", "entity", "entity_id"]) {
    assert.equal(await ctx.page.inputValue(`#audit-filters input[name=${f}]`), "", f);
  }
  assert.equal(await ctx.page.inputValue("#audit-filters input[name=action]"), "import");
  const actions = await ctx.page.locator("#audit-table tbody td:nth-child(6)").allTextContents();
  assert.ok(actions.map((a) => a.trim()).includes("import"), "the console import is in the trail");
  await shot("20-audit");
  const fac = await ctx.page.goto(`${ctx.base}/console/facilities`);
  assert.equal(fac.status(), 403, "auditors read the trail, not the registers");
});

test("roles: the analyst's map shows public facility fields only; staff see the transfer page", async () => {
  await ctx.page.goto(`${ctx.base}/console/audit`);
  await ctx.page.click("#logout");
  await ctx.page.waitForSelector("#login-form");
  await login("analyst", "demo-analyst-2026");
  await ctx.page.goto(`${ctx.base}/`);
  // The points come apart from the rest of the map's data (made once per facility version).
  const points = JSON.parse(await ctx.page.textContent("#map-points"));
  assert.ok(points.length > 0, "facilities on the map");
  for (const p of points) {
    assert.deepEqual(Object.keys(p).sort(), ["elderly", "kind", "lat", "lng", "name"], "public fields only");
  }
  const tr = await ctx.page.goto(`${ctx.base}/console/transfers`);
  assert.equal(tr.status(), 403, "analysts have no transfers");
  await ctx.page.goto(`${ctx.base}/`);
  await ctx.page.click("#logout");
  await ctx.page.waitForSelector("#login-form");
  await login("village", "demo-village-2026");
  await ctx.page.goto(`${ctx.base}/console/transfers?lang=en`);
  await ctx.page.waitForSelector("#transfer-form");
  assert.match(await ctx.page.textContent("h1"), /Transfer requests/);
  await shot("21-transfers");
});

test("accessibility: every console page passes axe-core's WCAG 2 A/AA rules", async () => {
  const found = [];
  const check = async (label) => {
    found.push(...(await axeViolations(label)));
  };
  /** Visits a path, expects the status, runs axe; returns the response. */
  const visit = async (label, path, status = 200, map = null) => {
    const r = await ctx.page.goto(`${ctx.base}${path}`);
    assert.equal(r.status(), status, `${path} answers ${status}`);
    if (map) await mapReady(map);
    await check(label);
    return r;
  };

  // Logged out: the login page, and its error state.
  await ctx.page.goto(`${ctx.base}/`);
  if (await ctx.page.locator("#logout").count()) {
    await ctx.page.click("#logout");
    await ctx.page.waitForSelector("#login-form");
  }
  await visit("login", "/console/login");
  await ctx.page.fill("#i-username", "city");
  await ctx.page.fill("#i-password", "wrong");
  await ctx.page.click("#login-submit");
  await ctx.page.waitForSelector("#login-error");
  await check("login with an error");

  // The city administrator: every page.
  await login("city", "demo-city-2026");
  await visit("overview", "/?lang=zh-CN", 200, "overview-map");
  await visit("overview (en)", "/?lang=en", 200, "overview-map");
  await visit("facilities (en)", "/console/facilities");
  await ctx.page.goto(`${ctx.base}/?lang=zh-CN`);
  await visit("facilities", "/console/facilities");
  const facility = await ctx.page.locator("#results tbody tr th a").first().getAttribute("href");
  await visit("facility", facility, 200, "detail-map");
  await visit("facility new", "/console/facilities/new");
  await ctx.page.click("#save");
  await ctx.page.waitForSelector("#form-errors");
  await check("facility form with errors");
  await visit("facility edit", `${facility.split("?")[0]}/edit`);
  await visit("elderly", "/console/elderly");
  const person = await ctx.page.locator("#results tbody tr th a").first().getAttribute("href");
  await visit("infants", "/console/infants");
  await visit("person", person, 200, "detail-map");
  await visit("plan", "/console/plan");
  await visit("indicators", "/console/indicators");
  await shot("20a-indicators");
  await visit("indicators 2020", "/console/indicators?period=2020&area=330402");
  await visit("indicator 14", "/console/indicators/14", 200, "indicator-map");
  await shot("20b-indicator-14");
  await visit("indicator 8 (monthly)", "/console/indicators/8?area=330402", 200, "indicator-trend");
  await visit("indicator 1 (reported, a form)", "/console/indicators/1");
  await shot("20c-indicator-1-form");
  await visit("indicators (en)", "/console/indicators?lang=en");
  await ctx.page.goto(`${ctx.base}/?lang=zh-CN`);
  // Subsidies (补助发放): the runs, a month prepared from the page, its run
  // page (the preparer is told why they cannot approve), a line explained, an
  // annual line with its month shares, the what-if form and its result.
  await visit("subsidies", "/console/subsidies");
  await ctx.page.selectOption("#p-month", { index: 1 });
  const [prepared] = await Promise.all([ctx.page.waitForNavigation(), ctx.page.click("#prepare-month-submit")]);
  assert.equal(prepared.status(), 200, "a month is prepared");
  assert.match(ctx.page.url(), /\/console\/subsidies\/runs\/\d+/);
  await ctx.page.waitForSelector("#own-draft");
  await check("subsidy run (month)");
  await shot("20d-subsidy-run");
  const lineLink = ctx.page.locator("#lines tbody a").first();
  assert.ok((await lineLink.count()) > 0, "the demo's month has lines");
  await visit("subsidy line", await lineLink.getAttribute("href"));
  await ctx.page.waitForSelector("#line-steps li");
  await shot("20e-subsidy-line");
  await visit("subsidies", "/console/subsidies");
  await ctx.page.selectOption("#p-year", { index: 1 });
  await Promise.all([ctx.page.waitForNavigation(), ctx.page.click("#prepare-year-submit")]);
  await visit("subsidy run (year, filtered)", `${new URL(ctx.page.url()).pathname}?rule=village_station&county=330402`);
  const annual = ctx.page.locator("#lines tbody a").first();
  if (await annual.count()) {
    await visit("subsidy line (annual)", await annual.getAttribute("href"));
    await ctx.page.waitForSelector("#line-months");
  }
  await visit("subsidy runs", "/console/subsidies?lang=en");
  await shot("20f-subsidies-en");
  await ctx.page.goto(`${ctx.base}/?lang=zh-CN`);
  await visit("what-if", "/console/subsidies/whatif");
  await visit("what-if example", "/console/subsidies/whatif?example=centenarian_800");
  await Promise.all([ctx.page.waitForNavigation(), ctx.page.click("#whatif-submit")]);
  await ctx.page.waitForSelector("#whatif-chart[data-ready=\"true\"] svg");
  assert.notEqual((await ctx.page.textContent("#w-difference")).trim(), "0.00", "the reform costs more");
  await check("what-if result");
  await shot("20g-whatif");
  await ctx.page.fill("#w-reform", "[[parameter");
  const [refused] = await Promise.all([ctx.page.waitForNavigation(), ctx.page.click("#whatif-submit")]);
  assert.equal(refused.status(), 422);
  await ctx.page.waitForSelector("#form-errors");
  await check("what-if with an error");
  // Spatial planning (设施布局规划): the gap map of the city and of a county,
  // accessibility, and the siting tool run once (k = 3 in the first county,
  // under the 15-minute walk).
  await visit("planning gap map", "/console/planning");
  assert.ok((await ctx.page.locator("#gap-map svg .county").count()) >= 7, "the county outlines");
  assert.ok((await ctx.page.locator("#coverage-table tbody tr").count()) >= 8, "the city and its counties");
  await shot("22a-planning-gap-city");
  await visit("planning gap map (county, 100 m)", "/console/planning?area=330402&cell=100");
  const fac = ctx.page.locator("#gap-map svg .fac[tabindex]").first();
  if (await fac.count()) {
    await fac.focus();
    assert.equal(await fac.locator(".ring").first().evaluate((e) => getComputedStyle(e).display), "inline", "the ring shows on focus");
  }
  await shot("22b-planning-gap-county");
  await visit("planning gap map (walk, en)", "/console/planning?area=330402&rule=home_care_walk&lang=en");
  await shot("22c-planning-gap-en");
  await ctx.page.goto(`${ctx.base}/?lang=zh-CN`);
  await visit("planning access", "/console/planning/access?area=330402");
  assert.ok((await ctx.page.locator("#access-table tbody tr").count()) > 1, "the county and its towns");
  await shot("22d-planning-access");
  await visit("planning access (slots, gaussian)", "/console/planning/access?area=330402&side=slots&decay=gaussian:500");
  await visit("planning access (bad decay)", "/console/planning/access?area=330402&decay_custom=bogus", 422);
  await visit("planning siting", "/console/planning/siting");
  await ctx.page.selectOption("#s-county", { index: 0 });
  // The walk leaves people uncovered at any demo scale: there is demand to site.
  await ctx.page.selectOption("#s-rule", "home_care_walk");
  await ctx.page.check("#s-mode-count");
  await ctx.page.fill("#s-k", "3");
  await ctx.page.check("#s-cand-centres");
  const [sited] = await Promise.all([ctx.page.waitForNavigation(), ctx.page.click("#siting-submit")]);
  assert.equal(sited.status(), 200, "the siting tool answers");
  await ctx.page.waitForSelector("#sites-table");
  const sites = await ctx.page.locator("#sites-table tbody tr").count();
  assert.ok(sites >= 1 && sites <= 3, `${sites} sites proposed`);
  assert.equal(await ctx.page.locator("#siting-map svg .marker").count(), sites, "numbered markers");
  await check("planning siting result");
  await shot("22e-planning-siting");
  // A candidate line that is no point: refused with the line named (the
  // browser's own checks pass it).
  await ctx.page.check("#s-cand-points");
  await ctx.page.fill("#s-points", "120.75,30.75,甲\nnot a point");
  const [bad] = await Promise.all([ctx.page.waitForNavigation(), ctx.page.click("#siting-submit")]);
  assert.equal(bad.status(), 422);
  await ctx.page.waitForSelector("#form-errors");
  await check("planning siting with an error");
  await visit("import", "/console/import");
  await visit("transfers", "/console/transfers");
  await visit("password", "/console/password");
  await visit("not found", "/console/facilities/NOPE", 404);

  for (const [i, key] of REGISTER_KEYS.entries()) {
    await visit(`${key} list`, `/console/${key}`);
    await shot(`30${i}a-${key}-list`);
    const link = ctx.page.locator("#register-table tbody a").first();
    assert.ok((await link.count()) > 0, `${key}: the demo has records`);
    const record = await link.getAttribute("href");
    await visit(`${key} record`, record);
    await shot(`30${i}b-${key}-record`);
    await visit(`${key} new`, `/console/${key}/new`);
    await shot(`30${i}c-${key}-new`);
    const [answer] = await Promise.all([
      ctx.page.waitForNavigation(),
      ctx.page.click("#save"),
    ]);
    assert.equal(answer.status(), 422, `${key}: an empty form is refused`);
    await ctx.page.waitForSelector("#form-errors");
    await check(`${key} form with errors`);
    await shot(`30${i}d-${key}-errors`);
    await visit(`${key} edit`, `${record.split("?")[0]}/edit`);
    await shot(`30${i}e-${key}-edit`);
  }
  await visit("staff list (en)", "/console/staff?lang=en");
  await shot("30z-staff-list-en");
  await ctx.page.goto(`${ctx.base}/?lang=zh-CN`);

  // A village worker: their lists and a record.
  await ctx.page.click("#logout");
  await ctx.page.waitForSelector("#login-form");
  await login("village", "demo-village-2026");
  // Staff land on their worklist at `/`; the overview is a page of its own.
  await visit("village home", "/");
  await visit("village overview", "/console/overview", 200, "overview-map");
  await visit("village elderly", "/console/elderly");
  await visit("village transfers", "/console/transfers");
  await visit("village staff", "/console/staff");
  const own = ctx.page.locator("#register-table tbody a").first();
  if (await own.count()) await visit("village staff record", await own.getAttribute("href"));
  await visit("village services", "/console/services");
  await visit("village forbidden", "/console/import", 403);
  await shot("30y-village-forbidden");

  // The auditor: the trail.
  await ctx.page.goto(`${ctx.base}/`);
  await ctx.page.click("#logout");
  await ctx.page.waitForSelector("#login-form");
  await login("auditor", "demo-auditor-2026");
  await visit("audit", "/console/audit");
  await visit("audit filtered", "/console/audit?action=import");

  assert.deepEqual(found, [], `axe-core found violations:\n${found.join("\n")}`);
});

test("registers: deleting a record asks first, and a refusal keeps the record", async () => {
  await ctx.page.context().clearCookies(); // whoever was signed in
  await login("city", "demo-city-2026");
  await ctx.page.goto(`${ctx.base}/console/staff`);
  const record = await ctx.page.locator("#register-table tbody a").first().getAttribute("href");
  await ctx.page.goto(`${ctx.base}${record}`);
  let asked = null;
  ctx.page.once("dialog", (d) => {
    asked = d.message();
    d.dismiss();
  });
  await ctx.page.click("#delete");
  await ctx.page.waitForTimeout(500);
  assert.ok(asked, "a confirmation was asked (an inline onclick would be blocked by the CSP)");
  const r = await ctx.page.goto(`${ctx.base}${record}`);
  assert.equal(r.status(), 200, "the record is still there");
});
