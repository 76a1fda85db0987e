// Browser tests of care-home admission (养老机构入住轮候): the applications
// page with its figures, a home's waiting list with explained positions, an
// application's page, the offer action, the apply form's field messages, and
// axe-core on every page, in both languages.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible, visitAccessible } from "./harness.mjs";

useDemo();

test("admission: the county sees figures, homes and applications", async () => {
  await login("county", "demo-county-2026");
  await visitAccessible("admission zh", "/console/admission?lang=zh-CN");
  assert.match(await ctx.page.textContent("h1"), /入住轮候/);
  assert.ok(await ctx.page.locator("#admission-figures").count());
  await shot("admission-01-list-zh");
  await visitAccessible("admission en", "/console/admission?lang=en");
  assert.match(await ctx.page.textContent("h1"), /Care-home admission/);
});

test("admission: a home's waiting list explains each position; an application too", async () => {
  await login("county", "demo-county-2026");
  await ctx.page.goto(`${ctx.base}/console/admission?lang=zh-CN`);
  const homes = ctx.page.locator("#admission-homes tbody a");
  if ((await homes.count()) === 0) return; // a tiny demo may have no care home in the county
  await homes.first().click();
  await ctx.page.waitForSelector("#home-beds");
  await assertAccessible("waiting list");
  const rows = ctx.page.locator("#waiting-list tbody tr");
  if ((await rows.count()) > 0) {
    const text = await ctx.page.textContent("#waiting-list");
    assert.match(text, /第\d+位|已通知入住/);
    await rows.first().locator("a").first().click();
    await ctx.page.waitForSelector("#application-facts");
    await assertAccessible("application");
    await shot("admission-02-application");
  }
  // Offering: either an offer is made or the page says no bed / nobody waits.
  await ctx.page.goto(`${ctx.base}/console/admission?lang=zh-CN`);
  await homes.first().click();
  await ctx.page.click("#offer-next");
  await ctx.page.waitForSelector("#admission-notice");
  await assertAccessible("after offer");
});

test("admission: the apply form names the fields at fault", async () => {
  await login("town", "demo-town-2026");
  await ctx.page.goto(`${ctx.base}/console/admission?lang=en`);
  await ctx.page.fill("#a-person", "NO-SUCH-PERSON");
  await ctx.page.click("#admission-submit");
  await ctx.page.waitForSelector("#form-errors");
  const errs = await ctx.page.textContent("#form-errors");
  assert.match(errs, /facility_ids|person_id/);
  await assertAccessible("apply errors");
});

test("admission: the operator sees its own home's list only, and no apply form", async () => {
  await login("operator", "demo-operator-2026");
  await visitAccessible("admission operator", "/console/admission?lang=zh-CN");
  assert.equal(await ctx.page.locator("#admission-form").count(), 0);
  assert.ok((await ctx.page.locator("#admission-homes tbody tr").count()) <= 1);
});
