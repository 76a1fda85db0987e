// Browser test of the portal's place search (找机构, issue 17 part 1) as a
// visitor without an account on a phone-sized screen: search from a point
// for care homes with free beds, check the list is nearest first and agrees
// with the JSON answer, pick a point on the map, open a place's page (public
// fields, how to apply, the complaint link) and switch to English. Every page
// is axe-clean (WCAG 2 A/AA) and fits a phone's width.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, assertAccessible, scrollsSideways } from "./harness.mjs";

useDemo();

const PHONE = { width: 390, height: 844 };

test("a visitor finds a care home with a free bed near a point and reads its page", async () => {
  const page = ctx.page;
  await page.context().clearCookies();
  await page.setViewportSize(PHONE);

  await page.goto(`${ctx.base}/portal?lang=zh-CN`);
  await page.click("#nav-places");
  await page.waitForSelector("#place-search");
  await assertAccessible("place search, empty (phone)");
  assert.equal(await scrollsSideways(), false, "the search fits a phone");
  await shot("places-01-search-phone");

  // Care homes with free beds, nearest to central Jiaxing first.
  await page.selectOption("#ps-kind", "elderly");
  await page.fill("#ps-lng", "120.755");
  await page.fill("#ps-lat", "30.746");
  await page.click("#place-search details summary");
  await page.check("#ps-vacancies");
  await page.click("#place-search button[type=submit]");
  await page.waitForSelector("#place-list");
  await assertAccessible("place search, results (phone)");
  assert.equal(await scrollsSideways(), false, "the results fit a phone");
  await shot("places-02-results-phone");
  const count = await page.textContent("#places-count");
  assert.match(count, /找到\d+家机构/);

  // The list is the JSON answer's first page, in the same order, and nearest first.
  const listed = await page.locator("#place-list h3 a").allTextContents();
  assert.ok(listed.length > 0, "some elderly-care place has a free bed");
  const r = await page.request.get(
    `${ctx.base}/portal/places.json?kind=elderly&lng=120.755&lat=30.746&vacancies=1`,
  );
  assert.equal(r.status(), 200);
  const doc = await r.json();
  assert.deepEqual(listed, doc.places.map((p) => p.name));
  assert.equal(String(doc.total), count.match(/\d+/)[0]);
  const d = doc.places.map((p) => p.distance_m).filter((m) => m !== null);
  assert.deepEqual(d, [...d].sort((a, b) => a - b), "nearest first");
  for (const p of doc.places) {
    assert.ok((p.free_beds ?? 0) + (p.free_slots ?? 0) > 0, `${p.name} has a free place`);
  }

  // A point picked on the map searches from there.
  await page.locator("#places-map svg").scrollIntoViewIfNeeded();
  const box = await page.locator("#places-map svg").boundingBox();
  await Promise.all([
    page.waitForURL(/[?&]x=\d+/),
    page.mouse.click(box.x + box.width / 2, box.y + box.height / 2),
  ]);
  await page.waitForSelector("#places-count");
  assert.match(page.url(), /[?&]y=\d+/);

  // A place's page.
  await page.goto(`${ctx.base}/portal/places?kind=elderly_institution&lng=120.755&lat=30.746`);
  const first = (await page.locator("#place-list h3 a").first().textContent()).trim();
  await page.click("#place-list h3 a >> nth=0");
  await page.waitForSelector("#place-name");
  assert.equal((await page.textContent("#place-name")).trim(), first);
  assert.match(await page.textContent("#place-apply"), /申请/);
  assert.match(await page.textContent("#place-hours"), /24/);
  const complain = await page.getAttribute("#place-complain", "href");
  assert.match(complain, /^\/portal\/complaints\?place=[0-9a-z]{12}$/);
  assert.ok(!/\/api\/|\/console\/(?!static|login)/.test(await page.content()), "no staff link");
  await assertAccessible("place page (phone)");
  assert.equal(await scrollsSideways(), false, "the place page fits a phone");
  await shot("places-03-place-phone");

  // English.
  await page.click("#lang-switch");
  await page.waitForSelector("#place-name");
  assert.match(await page.textContent("#h-apply"), /How to apply/);
  await assertAccessible("place page, English (phone)");
  await shot("places-04-place-en-phone");
});
