// Browser tests of childcare operations (托育, issue 16): the national class
// rules as a county official meets them in the console. An enrolment moved to
// a start day when the child was too young for its class is refused at the
// class field, citing the standard's article, and nothing changes; the form
// stays axe-clean with the error shown.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible } from "./harness.mjs";

useDemo();

test("an enrolment before the child is old enough for its class is refused at the class, citing the rule", async () => {
  await login("city", "demo-city-2026");
  await ctx.page.goto(`${ctx.base}/console/enrolments?lang=zh-CN`);
  const first = ctx.page.locator("table tbody tr a").first();
  assert.ok((await first.count()) > 0, "the demo has enrolments");
  await first.click();
  await ctx.page.waitForLoadState("load");
  const record = ctx.page.url().split("?")[0];
  await ctx.page.goto(`${record}/edit?lang=zh-CN`);
  const start = await ctx.page.inputValue("#i-start_date");
  assert.match(start, /^\d{4}-\d{2}-\d{2}$/);
  // Two years earlier the child was 24 months younger: younger than any
  // class type takes (乳儿班 6, 托小班 12, 托大班 24, 混合编班 18 months) or unborn.
  const early = `${Number(start.slice(0, 4)) - 2}${start.slice(4).replace("-02-29", "-02-28")}`;
  await ctx.page.fill("#i-start_date", early);
  await ctx.page.click("#save");
  await ctx.page.waitForSelector("#e-class_id");
  const msg = await ctx.page.textContent("#e-class_id");
  assert.match(msg, /months old on|not yet born on/, msg);
  assert.match(msg, /第十五条/, msg);
  assert.equal(await ctx.page.getAttribute("#i-class_id", "aria-invalid"), "true");
  await assertAccessible("enrolment refused by the class's ages");
  await shot("childcare-01-enrolment-age-refused");
  // Nothing was written: the record keeps its start day.
  await ctx.page.goto(`${record}/edit?lang=zh-CN`);
  assert.equal(await ctx.page.inputValue("#i-start_date"), start);
});
