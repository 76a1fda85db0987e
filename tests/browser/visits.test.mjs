// Browser tests of visiting rounds (探访关爱) and home-care beds (家庭养老床位):
// the month's rounds per village, an area's open visits, the visit form at
// phone width (375 px) with a field-level error then a saved visit, the
// town's follow-ups, and a provider's completion page with a service visit.
// Every page runs axe-core (WCAG 2 A/AA).

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible, visitAccessible, scrollsSideways } from "./harness.mjs";

useDemo();

test("rounds: the month's progress per village, in Chinese and English", async () => {
  await login("city", "demo-city-2026");
  await visitAccessible("visits rounds zh", "/console/visits?lang=zh-CN");
  assert.match(await ctx.page.textContent("h1"), /探访关爱/);
  const rows = await ctx.page.locator("#rounds tbody tr").count();
  assert.ok(rows > 0, "the demo generated this month's rounds");
  await shot("visits-01-rounds");
  await visitAccessible("visits rounds en", "/console/visits?lang=en");
  assert.match(await ctx.page.textContent("h1"), /Visiting rounds/);
  await ctx.page.goto(`${ctx.base}/console/visits?lang=zh-CN`);
});

test("the visit form at phone width: an error named at its field, then saved", async () => {
  await ctx.page.goto(`${ctx.base}/console/visits`);
  // An area with open visits.
  const links = ctx.page.locator("#rounds tbody tr th a");
  const n = await links.count();
  let opened = false;
  for (let i = 0; i < n && !opened; i++) {
    await ctx.page.goto(`${ctx.base}/console/visits`);
    await ctx.page.locator("#rounds tbody tr th a").nth(i).click();
    await ctx.page.waitForLoadState("load");
    opened = (await ctx.page.locator("a.task-link").count()) > 0;
  }
  assert.ok(opened, "some area has an open visit");
  await assertAccessible("visits open list");
  await ctx.page.setViewportSize({ width: 375, height: 800 });
  await ctx.page.locator("a.task-link").first().click();
  await ctx.page.waitForSelector("#visit-form");
  assert.equal(await scrollsSideways(), false, "the form fits 375 px");
  await assertAccessible("visit form 375");
  await shot("visits-02-form-375");
  // A follow-up ticked without saying what: refused at that field.
  await ctx.page.check("#o-by_phone");
  await ctx.page.check("#c-health");
  await ctx.page.check("#f-needs");
  await ctx.page.click("#save-visit");
  await ctx.page.waitForSelector("#e-follow_up");
  assert.equal(await ctx.page.isChecked("#c-health"), true, "the form keeps what was given");
  await assertAccessible("visit form error");
  await shot("visits-03-form-error");
  await ctx.page.fill("#f-follow_up", "需要协调家属每周探望");
  await ctx.page.click("#save-visit");
  await ctx.page.waitForURL(/done=recorded/);
  await assertAccessible("my visits after saving");
  await ctx.page.setViewportSize({ width: 1280, height: 900 });
});

test("follow-ups for the town, closed with a note", async () => {
  await login("town", "demo-town-2026");
  await visitAccessible("follow-ups", "/console/visits/followups");
  const forms = ctx.page.locator("#followups form");
  assert.ok((await forms.count()) > 0, "the demo's follow-ups are listed for the town");
  const note = forms.first().locator("input[name=note]");
  await note.fill("已联系家属");
  await forms.first().locator("button[type=submit]").click();
  await ctx.page.waitForURL(/done=closed/);
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
  const contracts = ctx.page.locator("#completion-contracts tbody a");
  if ((await contracts.count()) === 0) {
    // The operator's facility serves no home-care beds in this demo: the city's page has them.
    await login("city", "demo-city-2026");
    await visitAccessible("completion city", "/console/visits/completion");
  }
  const first = ctx.page.locator("#completion-contracts tbody a").first();
  assert.ok(await first.count(), "the demo has home-care bed contracts");
  await first.click();
  await ctx.page.waitForSelector("#service-form");
  await assertAccessible("contract services");
  await ctx.page.fill("#s-minutes", "0");
  await ctx.page.fill("#s-services", "助浴");
  await ctx.page.click("#save-service");
  await ctx.page.waitForSelector("#e-minutes");
  await assertAccessible("service form error");
  await ctx.page.fill("#s-minutes", "90");
  await ctx.page.click("#save-service");
  await ctx.page.waitForURL(/done=recorded/);
  assert.ok((await ctx.page.locator("#services tbody tr").count()) > 0);
  await shot("visits-05-contract");
});
