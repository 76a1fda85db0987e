// Browser test of the public entitlement check (待遇测算, issue 17 part 1) as a
// visitor without an account, on a phone: from the portal home to the form,
// an older person's answers give the benefits in the right groups with the
// amounts and where to apply; a mistake gives a message naming the field,
// linked to it; a child's answers give the inclusive childcare fee cap; the
// English page reads in English. Every page is axe-clean (WCAG 2 A/AA) and
// fits a phone's width. Plain HTML forms: nothing here needs JavaScript.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, assertAccessible, scrollsSideways } from "./harness.mjs";

useDemo();

const PHONE = { width: 390, height: 844 };

test("a visitor checks what an older person and a child can get, on a phone", async () => {
  const page = ctx.page;
  await page.context().clearCookies();
  await page.setViewportSize(PHONE);
  const year = new Date().getFullYear();

  await page.goto(`${ctx.base}/portal?lang=zh-CN`);
  await page.click("#home-entitlements");
  await page.waitForSelector("#elder-form");
  await assertAccessible("entitlement form (phone)");
  assert.equal(await scrollsSideways(), false, "the form fits a phone");
  await shot("entitlements-01-form-phone");

  // A mistake: a year of birth too young for the elderly form.
  await page.fill("#f-birth_year", String(year - 50));
  await page.selectOption("#f-hukou", "330402");
  await page.selectOption("#f-residence", "330402");
  await page.selectOption("#f-living", "with_family");
  // The browser's own range check would stop the form: send it as a visitor
  // without validation would (an old browser), to see the server's message.
  await page.$eval("#elder-form", (f) => f.setAttribute("novalidate", ""));
  await page.click("#elder-submit");
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /出生年份/);
  assert.equal(await page.getAttribute("#f-birth_year", "aria-invalid"), "true");
  await assertAccessible("entitlement form with an error (phone)");
  await shot("entitlements-02-error-phone");

  // 101, Jiaxing hukou, 低保, not assessed, living alone.
  await page.fill("#f-birth_year", String(year - 101));
  await page.selectOption("#f-birth_month", "1");
  await page.check("#f-cat-minimum_living_allowance");
  await page.selectOption("#f-ability", "unknown");
  await page.selectOption("#f-living", "living_alone");
  await page.click("#elder-submit");
  await page.waitForSelector("#results");
  const met = await page.textContent("#results");
  assert.ok(await page.locator("#group-met").count(), "something is met");
  assert.match(await page.textContent("#ent-centenarian"), /600\.00 元\/月/);
  assert.match(await page.textContent("#ent-home_care_voucher"), /助餐：150\.00 元\/月/);
  assert.match(await page.textContent("#ent-care_home_admission"), /第二优先类/);
  assert.match(met, /到哪里申请/);
  assert.equal(await page.locator("#ent-inclusive_childcare").count(), 0);
  await assertAccessible("entitlement results, older person (phone)");
  assert.equal(await scrollsSideways(), false, "the results fit a phone");
  await shot("entitlements-03-elder-results-phone");
  // The policy basis opens without JavaScript (details/summary).
  await page.click("#ent-centenarian summary");
  assert.match(await page.textContent("#ent-centenarian .sources"), /600元/);

  // A child of 18 months in 秀洲, a parent with Jiaxing hukou, second child.
  await page.goto(`${ctx.base}/portal/entitlements`);
  await page.fill("#f-age_months", "18");
  await page.selectOption("#f-parents_hukou", "330411");
  await page.selectOption("#f-child_residence", "330411");
  await page.selectOption("#f-birth_order", "second");
  await page.click("#child-submit");
  await page.waitForSelector("#results");
  const cc = await page.textContent("#ent-inclusive_childcare");
  assert.match(cc, /托小班/);
  assert.match(cc, /不超过/);
  assert.ok(await page.locator("#group-possibly #ent-childcare_allowance, #ent-childcare_allowance").count());
  assert.equal(await page.locator("#ent-inclusive_childcare a[href='/portal/places']").count(), 1);
  await assertAccessible("entitlement results, child (phone)");
  await shot("entitlements-04-child-results-phone");

  // English.
  await page.goto(`${ctx.base}/portal/entitlements?lang=en&who=child&age_months=40&parents_hukou=elsewhere&child_residence=330402&birth_order=first`);
  await page.waitForSelector("#results");
  assert.match(await page.textContent("#group-not-met"), /Not at present/);
  assert.match(await page.textContent("#ent-inclusive_childcare"), /40 months is outside/);
  await assertAccessible("entitlement results in English (phone)");
  await shot("entitlements-05-english-phone");
});
