// Browser test of complaints (投诉, issue 16 part 5), as a parent, the
// institution and the county. The demo family's child waits at the demo
// institution: the institution offers a place, the parent accepts, the
// institution enrols the child (as in enrolment.test.mjs). Then the parent
// files a complaint on a phone-sized screen (a bad phone number named first)
// and sees its tracking code; the institution acknowledges and answers it;
// the parent closes it with a rating; the county sees it closed in its list
// and the figures. Every page is axe-clean (WCAG 2 A/AA).

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible, scrollsSideways } from "./harness.mjs";

useDemo();

const PHONE = { width: 390, height: 844 };
const DESK = { width: 1280, height: 900 };

test("a parent files a complaint, the institution acknowledges and answers, the parent closes it with a rating, the county sees it", async () => {
  const page = ctx.page;
  const today = new Date().toISOString().slice(0, 10);

  // ---- the child is enrolled at the demo institution first.
  await login("family", "demo-family-2026");
  await page.goto(`${ctx.base}/console/family?lang=zh-CN`);
  await page.waitForSelector("#children");
  const appId = (await page.locator("#children tr[id^=cc-]").first().getAttribute("id")).slice(3);
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/applications/${appId}?lang=zh-CN`);
  await page.waitForSelector("#offer-form");
  const options = await page.locator("#o-class option").evaluateAll((os) => os.map((o) => o.value));
  let offered = false;
  for (const cls of options) {
    await page.selectOption("#o-class", cls);
    await page.fill("#o-start", today);
    await page.click("#offer-submit");
    await page.waitForLoadState("load");
    if (await page.locator("#enrolment-notice").count()) {
      offered = true;
      break;
    }
  }
  assert.ok(offered, "a class took the offer");
  await login("family", "demo-family-2026");
  await page.goto(`${ctx.base}/console/family?lang=zh-CN`);
  await page.click(`#cc-${appId} .cc-accept`);
  await page.waitForSelector("#family-notice");
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/applications/${appId}?lang=zh-CN`);
  await page.fill("#e-hc", today);
  await page.check("#e-vac");
  await page.click("#enrol-submit");
  await page.waitForSelector("#enrolment-notice");

  // ---- the parent, on a phone: from the child's card to the complaint form.
  await page.setViewportSize(PHONE);
  await login("family", "demo-family-2026");
  await page.goto(`${ctx.base}/console/family?lang=zh-CN`);
  await page.click("a.child-complaints");
  await page.waitForSelector("#complaint-form");
  await assertAccessible("family complaint form (phone)");
  assert.equal(await scrollsSideways(), false, "the form fits a phone's width");
  await page.selectOption("#cp-category", "meals");
  await page.fill("#cp-body", "午餐菜量偏少，孩子连续几天回家说没吃饱，希望机构核实并改进。");
  await page.fill("#cp-phone", "12345");
  await page.click("#complaint-form button[type=submit]");
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /contact_phone/);
  await assertAccessible("family complaint refused: the phone");
  assert.equal(await page.inputValue("#cp-body"), "午餐菜量偏少，孩子连续几天回家说没吃饱，希望机构核实并改进。", "the text is kept");
  await page.fill("#cp-phone", "138 0000 5678");
  await page.click("#complaint-form button[type=submit]");
  await page.waitForSelector("#complaint-notice");
  const code = (await page.textContent("#complaint-code")).trim();
  assert.match(code, /^TS[0-9A-HJKMNP-TV-Z]{10}$/, code);
  assert.equal(await page.getAttribute("#complaint-status", "data-status"), "received");
  assert.match(await page.textContent("#complaint-facts"), /13800005678/, "the parent sees the phone in full");
  await assertAccessible("family complaint filed (phone)");
  await shot("complaints-01-filed-phone");
  const complaintUrl = page.url().split("?")[0];
  const id = complaintUrl.split("/").pop();
  await page.goto(`${ctx.base}/console/family/complaints?lang=zh-CN`);
  assert.match(await page.textContent("#my-complaints"), new RegExp(code));
  await assertAccessible("family's complaints (phone)");

  // ---- the institution: the register, then acknowledge and answer.
  await page.setViewportSize(DESK);
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/complaints?lang=zh-CN`);
  await page.waitForSelector("#complaint-list");
  await assertAccessible("institution's complaints");
  await page.click(`#complaint-${id} a`);
  await page.waitForSelector("#complaint-ack-form");
  assert.match(await page.textContent("#complaint-facts"), /138\*\*\*\*5678/, "staff see the phone masked");
  await assertAccessible("a complaint to acknowledge");
  await page.click("#complaint-ack-form button");
  await page.waitForSelector("#complaint-notice");
  assert.equal(await page.getAttribute("#complaint-status", "data-status"), "acknowledged");
  await page.fill("#complaint-answer-text", "已核实，自下周一起午餐增加一份主食，欢迎家长来园查看。");
  await page.click("#complaint-answer-form button");
  await page.waitForSelector("#complaint-notice");
  assert.equal(await page.getAttribute("#complaint-status", "data-status"), "answered");
  await assertAccessible("a complaint answered");
  await shot("complaints-02-answered");

  // ---- the parent reads the answer and closes with a rating of 4.
  await page.setViewportSize(PHONE);
  await login("family", "demo-family-2026");
  await page.goto(`${complaintUrl}?lang=zh-CN`);
  await page.waitForSelector("#complaint-close-form");
  assert.match(await page.textContent("#complaint-answer"), /午餐增加一份主食/);
  await assertAccessible("family reads the answer (phone)");
  await page.check('#complaint-close-form input[name=rating][value="4"]');
  await page.fill("#cc-comment", "处理及时");
  await page.click("#complaint-close-form button[type=submit]");
  await page.waitForSelector("#complaint-notice");
  assert.equal(await page.getAttribute("#complaint-status", "data-status"), "closed");
  assert.match(await page.textContent("#complaint-closed"), /4 \/ 5/);
  await assertAccessible("family closed the complaint (phone)");
  await shot("complaints-03-closed-phone");

  // ---- the county: the complaint closed in its list, the figures.
  await page.setViewportSize(DESK);
  await login("county", "demo-county-2026");
  await page.goto(`${ctx.base}/console/complaints?lang=zh-CN`);
  await page.waitForSelector("#complaint-figures");
  assert.equal(await page.getAttribute(`#complaint-${id}`, "data-status"), "closed");
  // The demo's late complaint is listed before the closed ones.
  const first = await page.locator("#complaint-list tbody tr").first().getAttribute("class");
  assert.equal(first, "warn", "a late complaint comes first");
  await assertAccessible("county's complaints and figures");
  await shot("complaints-04-county");
  await page.goto(`${ctx.base}/console/complaints?late=1&lang=en`);
  await assertAccessible("county's late complaints in English");
});
