// Browser tests of visiting rounds (探访关爱) and home-care beds (家庭养老床位):
// the month's rounds per village, an area's open visits, the visit form at
// phone width (375 px) with a field-level error then a saved visit, the
// town's follow-ups, and a provider's completion page with a service visit.
// Every page runs axe-core (WCAG 2 A/AA).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible, visitAccessible, scrollsSideways } from "./harness.mjs";

useDemo();
let page = null;
let base = "";
before(() => {
  ({ page, base } = ctx);
});

test("rounds: the month's progress per village, in Chinese and English", async () => {
  await login("city", "demo-city-2026");
  await visitAccessible("visits rounds zh", "/console/visits?lang=zh-CN");
  assert.match(await page.textContent("h1"), /探访关爱/);
  const rows = await page.locator("#rounds tbody tr").count();
  assert.ok(rows > 0, "the demo generated this month's rounds");
  await shot("visits-01-rounds");
  await visitAccessible("visits rounds en", "/console/visits?lang=en");
  assert.match(await page.textContent("h1"), /Visiting rounds/);
  await page.goto(`${base}/console/visits?lang=zh-CN`);
});

test("the visit form at phone width: an error named at its field, then saved", async () => {
  await page.goto(`${base}/console/visits`);
  // An area with open visits.
  const links = page.locator("#rounds tbody tr th a");
  const n = await links.count();
  let opened = false;
  for (let i = 0; i < n && !opened; i++) {
    await page.goto(`${base}/console/visits`);
    await page.locator("#rounds tbody tr th a").nth(i).click();
    await page.waitForLoadState("load");
    opened = (await page.locator("a.task-link").count()) > 0;
  }
  assert.ok(opened, "some area has an open visit");
  await assertAccessible("visits open list");
  await page.setViewportSize({ width: 375, height: 800 });
  await page.locator("a.task-link").first().click();
  await page.waitForSelector("#visit-form");
  assert.equal(await scrollsSideways(), false, "the form fits 375 px");
  await assertAccessible("visit form 375");
  await shot("visits-02-form-375");
  // A follow-up ticked without saying what: refused at that field.
  await page.check("#o-by_phone");
  await page.check("#c-health");
  await page.check("#f-needs");
  await page.click("#save-visit");
  await page.waitForSelector("#e-follow_up");
  assert.equal(await page.isChecked("#c-health"), true, "the form keeps what was given");
  await assertAccessible("visit form error");
  await shot("visits-03-form-error");
  await page.fill("#f-follow_up", "需要协调家属每周探望");
  await page.click("#save-visit");
  await page.waitForURL(/done=recorded/);
  await assertAccessible("my visits after saving");
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("follow-ups for the town, closed with a note", async () => {
  await login("town", "demo-town-2026");
  await visitAccessible("follow-ups", "/console/visits/followups");
  const forms = page.locator("#followups form");
  assert.ok((await forms.count()) > 0, "the demo's follow-ups are listed for the town");
  const note = forms.first().locator("input[name=note]");
  await note.fill("已联系家属");
  await forms.first().locator("button[type=submit]").click();
  await page.waitForURL(/done=closed/);
  await assertAccessible("follow-ups after closing");
  await shot("visits-04-followups");
});

test("a village visitor's own visits", async () => {
  await login("village", "demo-village-2026");
  await visitAccessible("my visits", "/console/visits/mine");
  await visitAccessible("overdue", "/console/visits/overdue");
});

test("home-care beds: a provider's completion and a service visit", async () => {
  await login("operator", "demo-operator-2026");
  await visitAccessible("completion", "/console/visits/completion");
  const contracts = page.locator("#completion-contracts tbody a");
  if ((await contracts.count()) === 0) {
    // The operator's facility serves no home-care beds in this demo: the city's page has them.
    await login("city", "demo-city-2026");
    await visitAccessible("completion city", "/console/visits/completion");
  }
  const first = page.locator("#completion-contracts tbody a").first();
  assert.ok(await first.count(), "the demo has home-care bed contracts");
  await first.click();
  await page.waitForSelector("#service-form");
  await assertAccessible("contract services");
  await page.fill("#s-minutes", "0");
  await page.fill("#s-services", "助浴");
  await page.click("#save-service");
  await page.waitForSelector("#e-minutes");
  await assertAccessible("service form error");
  await page.fill("#s-minutes", "90");
  await page.click("#save-service");
  await page.waitForURL(/done=recorded/);
  assert.ok((await page.locator("#services tbody tr").count()) > 0);
  await shot("visits-05-contract");
});
