// Browser tests of the ability assessment pages (老年人能力评估, GB/T 42195-2022):
// the list, a finished assessment's result and explanation, the printable
// report, the due list, the form with its 26 items, a draft saved and refused
// when finished incomplete; axe-core on every page. Uses the demo's accounts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible, visitAccessible } from "./harness.mjs";

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

test("assessments: paper forms imported — refused rows named, then a dry run, then written", async () => {
  await login("town", "demo-town-2026");
  // A finished assessment gives a person of the area and two certified assessors.
  await ctx.page.goto(`${ctx.base}/console/assessments?state=finished`);
  await ctx.page.locator("#assessments tbody tr a").first().click();
  await ctx.page.waitForSelector("#assessment-facts");
  const personHref = await ctx.page.locator("#assessment-facts a[href^='/console/people/']").first().getAttribute("href");
  const person = decodeURIComponent(personHref.split("/").pop());
  const assessors = (await ctx.page.locator("#assessment-facts span.mono").allTextContents()).map((t) => t.replace(/[()]/g, "").trim());
  assert.equal(assessors.length, 2, "two assessors");

  await visitAccessible("assessment import", "/console/assessments/import");
  assert.equal(await ctx.page.locator("#import-columns tbody tr").count(), 14, "the fourteen fact columns are listed");
  // The template: the paper form's Chinese headers, the 26 items after the facts.
  const tpl = await ctx.page.request.get(`${ctx.base}/console/assessments/import/template.csv`);
  assert.equal(tpl.status(), 200);
  const header = (await tpl.text()).replace(/^\uFEFF/, "").trim().split(",");
  assert.equal(header.length, 14 + 26);
  assert.equal(header[0], "老年人编号");

  const today = new Date().toISOString().slice(0, 10);
  const csv = (rows) => [header.join(","), ...rows.map((r) => header.map((h) => r[h] ?? "").join(","))].join("\n");
  const row = (who) => {
    const r = { "老年人编号": who, "评估日期": today, "评估原因": "即时评估", "评估员1编号": assessors[0], "评估员2编号": assessors[1], "昏迷": "否", "痴呆": "否", "其他精神和行为障碍": "否" };
    for (const h of header.slice(14)) r[h] = "0";
    return r;
  };
  // One good row and one for nobody: refused, the bad row named, nothing written.
  await ctx.page.setInputFiles("#i-file", { name: "paper.csv", mimeType: "text/csv", buffer: Buffer.from(csv([row(person), row("NOBODY-1")])) });
  await ctx.page.click("#check-import");
  await ctx.page.waitForSelector("#import-rejected");
  const rejected = await ctx.page.locator("#import-rejected tbody tr").allTextContents();
  assert.equal(rejected.length, 1, rejected.join(" | "));
  assert.match(rejected[0], /^\s*3/, "row 3, as a spreadsheet numbers it");
  await assertAccessible("assessment import refused");
  await shot("assess-07-import-refused");
  // The good row alone: a dry run first, then written and scored.
  await ctx.page.setInputFiles("#i-file", { name: "paper.csv", mimeType: "text/csv", buffer: Buffer.from(csv([row(person)])) });
  await ctx.page.click("#check-import");
  await ctx.page.waitForSelector("#import-preview");
  await assertAccessible("assessment import preview");
  await ctx.page.click("#confirm-import");
  await ctx.page.waitForSelector("#import-done");
  assert.match(await ctx.page.textContent("#import-done"), /1/);
  await shot("assess-08-import-done");
  // The person's newest assessment is today's, all items 0: 完全失能.
  await ctx.page.goto(`${ctx.base}${personHref}`);
  assert.match(await ctx.page.textContent("main"), /完全失能/);
  // The same file again changes nothing: the day's assessment exists.
  await ctx.page.goto(`${ctx.base}/console/assessments/import`);
  await ctx.page.setInputFiles("#i-file", { name: "paper.csv", mimeType: "text/csv", buffer: Buffer.from(csv([row(person)])) });
  await ctx.page.click("#check-import");
  await ctx.page.waitForSelector("#import-rejected");
  assert.match(await ctx.page.textContent("#import-rejected"), /assessed_on/);
});
