// Browser test of the public portal's open statistics (公众服务门户、数据开放,
// issue 17 part 5) as a visitor without an account, on a phone-sized screen:
// the home page, the published indicator values for the city and a county,
// the open datasets with their data dictionary, and a downloaded JSON file
// that agrees with the table on the page. The demo publishes last year's
// indicators once it has loaded. Every page is axe-clean (WCAG 2 A/AA) and
// fits a phone's width.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, assertAccessible, scrollsSideways } from "./harness.mjs";

useDemo();

const PHONE = { width: 390, height: 844 };

test("a visitor reads the published statistics on a phone and downloads what the page shows", async () => {
  const page = ctx.page;
  await page.context().clearCookies();
  await page.setViewportSize(PHONE);

  await page.goto(`${ctx.base}/portal?lang=zh-CN`);
  await page.waitForSelector("#latest-publication");
  await assertAccessible("portal home (phone)");
  assert.equal(await scrollsSideways(), false, "the home page fits a phone");
  assert.equal(await page.locator("#logout").count(), 0, "no account on the portal");
  await shot("portal-01-home-phone");

  await page.click("#nav-statistics");
  await page.waitForSelector("#statistics-table");
  assert.match(await page.textContent("#statistics-table caption"), /嘉兴市/);
  await assertAccessible("portal statistics, city (phone)");
  await shot("portal-02-statistics-city-phone");

  // A county's values.
  await page.selectOption("#stat-area", "330402");
  await page.click("#statistics-form button[type=submit]");
  await page.waitForSelector("#statistics-table");
  assert.match(await page.textContent("#statistics-table caption"), /南湖区/);
  await assertAccessible("portal statistics, county (phone)");
  assert.equal(await scrollsSideways(), false, "the table scrolls inside its frame, not the page");
  await shot("portal-03-statistics-county-phone");

  // The rows with a value, as the page shows them.
  const shown = await page.locator("#statistics-table tbody tr").evaluateAll((rows) =>
    rows
      .map((r) => ({
        n: Number(r.children[0].textContent.trim()),
        value: r.children[2].textContent.trim(),
      }))
      .filter((r) => /^[0-9]/.test(r.value)),
  );
  assert.ok(shown.length > 0, "some values are published for the county");

  // The same period's JSON file, from the download link.
  const href = await page.locator("a.download", { hasText: "JSON" }).first().getAttribute("href");
  const r = await page.request.get(`${ctx.base}${href}`);
  assert.equal(r.status(), 200);
  const doc = await r.json();
  for (const row of shown) {
    const rec = doc.records.find((x) => x.indicator === row.n && x.area_code === "330402");
    assert.ok(rec, `indicator ${row.n} is in the file`);
    assert.equal(rec.withheld, null);
    const onPage = Number(row.value.split(" ")[0].replaceAll(",", ""));
    assert.ok(Math.abs(onPage - rec.value) < 0.006, `indicator ${row.n}: page ${row.value}, file ${rec.value}`);
  }
  assert.ok(doc.records.some((x) => x.withheld !== null), "small counts are withheld somewhere");
  assert.ok(doc.records.filter((x) => x.withheld !== null).every((x) => x.value === null && x.numerator === null));

  // The open datasets and a data dictionary.
  await page.click("#nav-data");
  await page.waitForSelector("#datasets");
  await assertAccessible("portal open data (phone)");
  assert.equal(await scrollsSideways(), false, "the catalogue fits a phone");
  await shot("portal-04-data-phone");
  await page.click("#datasets h2 a >> nth=0");
  await page.waitForSelector("#dictionary");
  assert.match(await page.textContent("#dictionary"), /withheld/);
  await assertAccessible("portal dataset page (phone)");
  await shot("portal-05-dataset-phone");

  // The DCAT catalogue lists the period's dataset.
  const cat = await (await page.request.get(`${ctx.base}/portal/data/catalog.json`)).json();
  assert.ok(cat["dcat:dataset"].some((d) => href.includes(d["dct:identifier"])), "the catalogue lists it");

  // In English.
  await page.goto(`${ctx.base}/portal/statistics?lang=en`);
  await page.waitForSelector("#statistics-table");
  assert.match(await page.textContent("h1"), /Plan indicators/);
  await assertAccessible("portal statistics in English (phone)");
});
