// Browser test of random inspections (双随机、一公开, issue 17 part 2), as the
// county, an inspector and the county again. The demo seeds a plan of the
// county with a published draw. The county sees the draw with its
// commitment and revealed seed; the inspector records an assigned
// inspection with one failed item (a rectification order appears); the
// county publishes it and orders the re-inspection; the inspector records
// the re-inspection passed and the order is closed; the county draws again
// with a reason and the old draw stays, superseded, with the reason. Every
// page is axe-clean (WCAG 2 A/AA).

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible } from "./harness.mjs";

useDemo();

test("a draw is shown with its seed, an inspection is recorded, rectified and re-inspected, a redraw keeps the old one", async () => {
  const page = ctx.page;

  // ---- the county: the demo plan and its draw.
  await login("county", "demo-county-2026");
  await page.goto(`${ctx.base}/console/inspections?lang=zh-CN`);
  await page.waitForSelector("#plan-list");
  await assertAccessible("county's inspection plans");
  await page.click("#plan-list tbody tr:first-child a");
  await page.waitForSelector("#commit-form");
  const planUrl = page.url().split("?")[0];
  const drawn = page.locator("article[data-status=drawn]");
  assert.equal(await drawn.count(), 1, "one current draw");
  assert.match(await drawn.locator("code.seed").textContent(), /^[0-9a-f]{64}$/, "the seed is revealed");
  assert.match(await drawn.locator("code.commit").textContent(), /^[0-9a-f]{64}$/);
  await assertAccessible("a plan with its draw");
  await shot("inspections-01-plan");

  // ---- an inspector records an assigned inspection with one failed item.
  await login("inspector", "demo-inspector-2026");
  await page.goto(`${ctx.base}/console/inspections?lang=zh-CN`);
  await page.waitForSelector("#inspection-list");
  await assertAccessible("inspector's inspections");
  const row = page.locator("#inspection-list tr[data-status=assigned]").first();
  await row.locator("a").click();
  await page.waitForSelector("#record-form");
  const url = page.url().split("?")[0];
  await assertAccessible("the record form");
  const fail = page.locator("#record-form fieldset.item").last();
  await fail.locator("input[value=fail]").check();
  await fail.locator("input[type=text], input:not([type])").first().fill("现场未见公示");
  await page.click("#record-form button[type=submit]");
  await page.waitForSelector("#inspection-notice");
  assert.equal(await page.getAttribute("#rectification", "data-status"), "open");
  assert.equal((await page.textContent("#inspection-verdict")).trim(), "基本合格", "a minor item failed");
  await assertAccessible("an inspection recorded with a rectification order");
  await shot("inspections-02-recorded");

  // ---- the county publishes and orders the re-inspection.
  await login("county", "demo-county-2026");
  await page.goto(`${url}?lang=zh-CN`);
  await page.click("#publish-form button");
  await page.waitForSelector("#inspection-notice");
  assert.match(await page.textContent("#inspection-status"), /已公开/);
  await page.click("#reinspect-form button");
  await page.waitForSelector("#inspection-notice");
  const reUrl = page.url().split("?")[0];
  assert.notEqual(reUrl, url, "a new inspection: the re-inspection");
  await assertAccessible("the re-inspection ordered");

  // ---- the inspector records the re-inspection passed: the order is closed.
  await login("inspector", "demo-inspector-2026");
  await page.goto(`${reUrl}?lang=zh-CN`);
  await page.waitForSelector("#record-form");
  await page.click("#record-form button[type=submit]");
  await page.waitForSelector("#inspection-notice");
  assert.equal((await page.textContent("#inspection-verdict")).trim(), "合格");
  await page.goto(`${url}?lang=zh-CN`);
  assert.equal(await page.getAttribute("#rectification", "data-status"), "closed");
  await assertAccessible("the order closed");
  await shot("inspections-03-closed");

  // ---- the county draws again: a reason is required, the old draw stays.
  await login("county", "demo-county-2026");
  await page.goto(`${planUrl}?lang=zh-CN`);
  await page.fill("#commit-reason", "检查人员调整，重新抽取");
  await page.click("#commit-form button[type=submit]");
  await page.waitForSelector("#inspection-notice");
  const old = page.locator("article[data-status=superseded]");
  assert.equal(await old.count(), 1);
  assert.match(await old.locator(".superseded").textContent(), /检查人员调整/);
  assert.match(await old.locator("code.seed").textContent(), /^[0-9a-f]{64}$/, "the superseded seed is revealed");
  await page.click("#draw-form button");
  await page.waitForSelector("#inspection-notice");
  assert.equal(await page.locator("article[data-status=drawn]").count(), 1);
  await assertAccessible("a redraw with the superseded draw kept");
  await shot("inspections-04-redraw");
  await page.goto(`${planUrl}?lang=en`);
  await assertAccessible("the plan in English");
});
