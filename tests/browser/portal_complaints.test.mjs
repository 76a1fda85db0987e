// Browser test of the portal's complaints and inspection results (门户投诉、
// 投诉查询、双随机检查结果公开, issue 17 part 3) as a visitor without an
// account on a phone: find a facility of 南湖区 by name, file a complaint
// (the page's script does the proof of work), get the tracking code, track
// it; read the published inspection results; then, as the county's staff,
// find the complaint in the console. Every page is axe-clean (WCAG 2 A/AA)
// and fits a phone's width.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible, scrollsSideways } from "./harness.mjs";

useDemo();

const PHONE = { width: 390, height: 844 };

test("a visitor files a complaint with the proof of work, tracks it, and the county sees it", async () => {
  const page = ctx.page;
  await page.context().clearCookies();
  await page.setViewportSize(PHONE);

  await page.goto(`${ctx.base}/portal?lang=zh-CN`);
  await page.click("#nav-complaints");
  await page.waitForSelector("#find-form");
  await assertAccessible("portal complaints, find a place (phone)");
  assert.equal(await scrollsSideways(), false, "the page fits a phone");

  // Find a place of 南湖区 by a common word of facility names.
  let found = false;
  for (const word of ["院", "园", "中心", "站", "托育", "养老"]) {
    await page.goto(`${ctx.base}/portal/complaints?code=330402&q=${encodeURIComponent(word)}`);
    if (await page.locator("#place-results a").count()) {
      found = true;
      break;
    }
  }
  assert.ok(found, "a facility of 南湖区 is found by name");
  await assertAccessible("portal complaints, search results (phone)");
  await shot("portal-complaints-01-results-phone");
  const name = (await page.locator("#place-results a").first().textContent()).trim();
  const href = await page.locator("#place-results a").first().getAttribute("href");
  assert.match(href, /^\/portal\/complaints\?place=[0-9a-z]{12}/, "linked by public reference");
  await page.click("#place-results a >> nth=0");
  await page.waitForSelector("#complaint-form");
  assert.match(await page.textContent("#chosen-place h2"), new RegExp(name));

  // The script solves the challenge in well under a second or two.
  const t0 = Date.now();
  await page.waitForFunction(() => document.getElementById("pow-nonce").value !== "", null, { timeout: 10_000 });
  const took = Date.now() - t0;
  assert.ok(took < 5000, `the proof of work took ${took} ms`);
  await assertAccessible("portal complaint form (phone)");
  assert.equal(await scrollsSideways(), false, "the form fits a phone");

  // A bad contact first: the message is next to the field, nothing lost.
  await page.selectOption("#f-category", "safety");
  await page.fill("#f-body", "走廊扶手松动，老人差点摔倒。");
  await page.fill("#f-contact", "12345");
  await page.click("#complaint-submit");
  await page.waitForSelector("#e-contact");
  assert.equal(await page.inputValue("#f-body"), "走廊扶手松动，老人差点摔倒。");
  await assertAccessible("portal complaint form with an error (phone)");
  await shot("portal-complaints-02-error-phone");

  await page.fill("#f-contact", "13812345678");
  await page.waitForFunction(() => document.getElementById("pow-nonce").value !== "", null, { timeout: 10_000 });
  await page.click("#complaint-submit");
  await page.waitForSelector("#tracking-code");
  const code = (await page.textContent("#tracking-code")).trim();
  assert.match(code, /^TS[0-9A-HJKMNP-TV-Z]{10}$/);
  await assertAccessible("portal complaint received (phone)");
  await shot("portal-complaints-03-code-phone");

  // Tracking by code.
  await page.click("#track-link");
  await page.waitForSelector("#track-form");
  await page.fill("#f-code", code.toLowerCase());
  await page.click("#track-form button[type=submit]");
  await page.waitForSelector("#tracked");
  assert.equal(await page.getAttribute("#tracked", "data-status"), "received");
  assert.doesNotMatch(await page.content(), /13812345678|扶手松动/, "no contact, no body");
  await assertAccessible("portal complaint tracked (phone)");
  assert.equal(await scrollsSideways(), false);
  await shot("portal-complaints-04-tracked-phone");

  // An unknown code: not found, said plainly.
  await page.fill("#f-code", "TS0000000000");
  await page.click("#track-form button[type=submit]");
  await page.waitForSelector("#e-code");
  await assertAccessible("portal complaint not found (phone)");

  // The published inspection results and draws.
  await page.click("#nav-inspections");
  await page.waitForSelector("#results-table");
  await page.selectOption("#ins-area", "330402");
  await page.click("#inspections-form button[type=submit]");
  await page.waitForSelector("#results-table");
  assert.ok(await page.locator("#results-table tbody tr[data-verdict]").count() > 0, "the demo's published results");
  assert.ok(await page.locator("#draws .draw").count() > 0, "the demo's draw");
  await assertAccessible("portal inspection results (phone)");
  assert.equal(await scrollsSideways(), false, "the results table scrolls inside its frame");
  await shot("portal-inspections-01-phone");

  // The county's staff find the complaint in the console, from the portal.
  await page.setViewportSize({ width: 1280, height: 900 });
  await login("county", "demo-county-2026");
  await page.goto(`${ctx.base}/console/complaints?lang=zh-CN`);
  await page.waitForSelector("#complaint-list");
  assert.match(await page.textContent("#complaint-list"), new RegExp(code));
  await assertAccessible("county's complaints with the portal's");
  await shot("portal-complaints-05-county");
});
