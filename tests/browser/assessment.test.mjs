// Browser tests of the ability assessment pages (老年人能力评估, GB/T 42195-2022):
// the list, a finished assessment's result and explanation, the printable
// report, the due list, the form with its 26 items, a draft saved and refused
// when finished incomplete; axe-core on every page. Uses the demo's accounts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible } from "./harness.mjs";

useDemo();

test("assessments: the town's list, a result with its explanation, the report", async () => {
  await login("town", "demo-town-2026");
  await ctx.page.goto(`${ctx.base}/console/assessments?lang=zh-CN`);
  assert.match(await ctx.page.textContent("h1"), /能力评估/);
  await assertAccessible("assessments list");
  await shot("assess-01-list");
  const first = ctx.page.locator("#assessments tbody tr a").first();
  assert.ok((await first.count()) > 0, "the demo made assessments in the town's area");
  await first.click();
  await ctx.page.waitForSelector("#assessment-facts");
  await assertAccessible("assessment result");
  if (await ctx.page.locator("#final-level").count()) {
    const total = Number(await ctx.page.textContent("#total"));
    assert.ok(total >= 0 && total <= 90, `total ${total}`);
    assert.ok((await ctx.page.locator("#explanation li").count()) >= 6, "C.1 ×4, C.2, C.3 … C.5 steps");
    await shot("assess-02-result");
    await ctx.page.click("#report-link");
    await ctx.page.waitForSelector("#assessment-report");
    await assertAccessible("assessment report");
    // The print stylesheet hides the console's navigation.
    await ctx.page.emulateMedia({ media: "print" });
    assert.equal(await ctx.page.locator("nav.main-nav").isVisible(), false);
    await shot("assess-03-report-print");
    await ctx.page.emulateMedia({ media: "screen" });
  }
});

test("assessments: the due list and the form with all 26 items", async () => {
  await ctx.page.goto(`${ctx.base}/console/assessments/due`);
  await assertAccessible("due list");
  await shot("assess-04-due");
  await ctx.page.goto(`${ctx.base}/console/assessments/new`);
  assert.equal(await ctx.page.locator("fieldset.domain").count(), 4);
  assert.equal(await ctx.page.locator("fieldset.item[id^=item-]").count(), 26);
  await assertAccessible("assessment form");
  // A form with nothing filled in is refused with field-level messages.
  await ctx.page.click("#save-draft");
  await ctx.page.waitForSelector("#form-errors");
  await assertAccessible("assessment form with errors");
  await shot("assess-05-form-errors");
});

test("assessments: in English, and on a phone", async () => {
  await ctx.page.setViewportSize({ width: 390, height: 844 });
  await ctx.page.goto(`${ctx.base}/console/assessments/new?lang=en`);
  assert.match(await ctx.page.textContent("h1"), /Ability assessment form/);
  await assertAccessible("assessment form on a phone");
  await shot("assess-06-form-phone");
  await ctx.page.setViewportSize({ width: 1280, height: 900 });
  await ctx.page.goto(`${ctx.base}/console/assessments?lang=zh-CN`);
});

test("assessments: village staff read but do not assess", async () => {
  await login("village", "demo-village-2026");
  await ctx.page.goto(`${ctx.base}/console/assessments`);
  assert.equal(await ctx.page.locator("#new-assessment").count(), 0);
  const r = await ctx.page.goto(`${ctx.base}/console/assessments/new`);
  assert.equal(r.status(), 403);
  await assertAccessible("assessment form forbidden");
});
