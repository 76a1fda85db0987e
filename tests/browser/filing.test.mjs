// Browser tests of childcare filing (托育机构备案, issue 16 part 1): a childcare
// institution's operator drafts a filing, is told what is missing with the
// clauses, has an HTML file refused, uploads the 备案办法's documents and
// submits; the county asks for corrections with a note; the institution sees
// it, submits again; the county accepts and the facility register shows the
// institution filed. Every page stays axe-clean, errors shown included.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible } from "./harness.mjs";

useDemo();

const REQUIRED = [
  "commitment_letter",
  "registration_certificate",
  "site_proof",
  "staff_certificates",
  "health_assessment",
  "fire_safety",
];

function pdf(tag) {
  return { name: `${tag}.pdf`, mimeType: "application/pdf", buffer: Buffer.from(`%PDF-1.4\n% ${tag}\n%%EOF\n`) };
}

async function upload(type, file) {
  await ctx.page.selectOption("#u-type", type);
  await ctx.page.setInputFiles("#u-file", file);
  await ctx.page.click("#filing-upload-submit");
  await ctx.page.waitForLoadState("load");
}

test("an institution files, the county asks for corrections, then accepts; the register shows it filed", async () => {
  const page = ctx.page;
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/filings?lang=zh-CN`);
  await assertAccessible("filings, institution");
  await page.selectOption("#n-kind", "initial");
  const facilityId = await page.inputValue("#n-facility");
  await page.click("#filing-create");
  await page.waitForSelector("#filing-notice");
  const filingUrl = page.url().split("?")[0];
  assert.match(await page.textContent("#filing-status"), /草稿/);
  assert.equal(await page.locator("#filing-missing li").count(), 6);
  await assertAccessible("a new draft");
  await shot("filing-01-draft");

  // The form, then a submission with the documents missing: each named.
  await page.fill("#ff-director", "王园长");
  await page.fill("#ff-phone", "0573-82000000");
  await page.fill("#ff-places", "40");
  await page.check('input[name="care_types"][value="full_day"]');
  const lease = `${new Date().getFullYear() + 5}-12-31`;
  await page.fill("#ff-lease", lease);
  await page.click("#filing-submit");
  await page.waitForSelector("#form-errors");
  const errors = await page.textContent("#form-errors");
  assert.match(errors, /备案承诺书/, errors);
  assert.match(errors, /第八条/, errors);
  assert.equal(await page.inputValue("#ff-places"), "40", "the typed form is kept");
  await assertAccessible("submission refused: documents missing");
  await shot("filing-02-missing-documents");

  // An HTML page is not a document, whatever its name says.
  await upload("site_proof", { name: "lease.pdf", mimeType: "application/pdf", buffer: Buffer.from("<html><script>alert(1)</script></html>") });
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /PDF, JPEG and PNG/);
  await assertAccessible("upload refused by content");

  for (const type of REQUIRED) await upload(type, pdf(type));
  assert.equal(await page.locator("#filing-documents tbody tr").count(), 6);
  assert.equal(await page.locator("#filing-missing").count(), 0);
  // A document downloads as an attachment.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("#filing-documents a[download]").first().click(),
  ]);
  assert.match(download.suggestedFilename(), /\.pdf$/);
  await page.click("#filing-submit");
  await page.waitForSelector("#filing-notice");
  assert.match(await page.textContent("#filing-status"), /待审核/);
  assert.ok(await page.locator("#filing-review-deadline").count(), "the review deadline is shown");
  await shot("filing-03-submitted");

  // The county asks for corrections, with a note.
  await login("county", "demo-county-2026");
  await page.goto(`${ctx.base}/console/childcare/filings?status=submitted&lang=zh-CN`);
  await assertAccessible("filings, county");
  await page.goto(`${filingUrl}?lang=zh-CN`);
  await assertAccessible("a filing under review");
  await shot("filing-04-review");
  await page.click("#filing-corrections");
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /note/);
  await page.fill("#r-note", "消防安全检查合格证明页面不全，请补传。");
  await page.click("#filing-corrections");
  await page.waitForSelector("#filing-notice");
  assert.match(await page.textContent("#filing-status"), /待补正/);

  // The institution sees the note, replaces the document, submits again.
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${filingUrl}?lang=zh-CN`);
  assert.match(await page.textContent("#filing-review-note"), /消防/);
  assert.ok(await page.locator("#filing-correction-deadline").count());
  await assertAccessible("corrections requested");
  await upload("fire_safety", pdf("fire-safety-complete"));
  await page.click("#filing-submit");
  await page.waitForSelector("#filing-notice");
  assert.match(await page.textContent("#filing-status"), /待审核/);

  // The county accepts; the register shows the institution filed with its places.
  await login("county", "demo-county-2026");
  await page.goto(`${filingUrl}?lang=zh-CN`);
  await page.click("#filing-accept");
  await page.waitForSelector("#filing-notice");
  assert.match(await page.textContent("#filing-status"), /已通过/);
  await shot("filing-05-accepted");
  await page.goto(`${ctx.base}/console/facilities/${encodeURIComponent(facilityId)}?lang=zh-CN`);
  const facts = await page.textContent("main");
  assert.match(facts, /已备案/, "the facility shows 已备案");
  assert.match(facts, /40/, "the approved places are 40");
  // The institution's filings, linked from its page.
  assert.equal(await page.locator("#facility-filings tbody tr").count(), 1);
  await assertAccessible("facility page with its filings");
});

test("the filing pages read in English too", async () => {
  await login("county", "demo-county-2026");
  await ctx.page.goto(`${ctx.base}/console/childcare/filings?lang=en`);
  assert.match(await ctx.page.textContent("h1"), /Childcare institution filing/);
  await assertAccessible("filings, English");
});
