// Browser tests of childcare applications and enrolment (入托申请与录取,
// issue 16 part 3), as a parent, the institution and the county: the demo
// family is the parent of a child waiting first at the demo institution; it
// applies to a second institution too; the institution is refused an offer
// that breaks a class rule (the rule named on the page), offers a fitting
// place; the parent accepts; the institution enrols the child after the
// health check and vaccinations, and the child's other application closes;
// the county sees it enrolled. The parent and the class then write to each
// other, the class gets a notice, and the parent reads its notifications
// (issue 16 part 5). Every page stays axe-clean, errors included.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible } from "./harness.mjs";

useDemo();

test("a parent applies, the institution offers a place within the rules, the parent accepts, the institution enrols", async () => {
  const page = ctx.page;
  const today = new Date().toISOString().slice(0, 10);

  // ---- the parent: its child waits first at the demo institution.
  await login("family", "demo-family-2026");
  await page.goto(`${ctx.base}/console/family?lang=zh-CN`);
  await page.waitForSelector("#children");
  await assertAccessible("family home with a child");
  const rows = page.locator("#children tr[id^=cc-]");
  assert.equal(await rows.count(), 1, "the demo child has one application");
  const appId = (await rows.first().getAttribute("id")).slice(3);
  assert.match(await rows.first().textContent(), /第 1 位/);
  // Apply to a second institution of the county (not the one applied to).
  const form = page.locator("form.child-apply").first();
  const boxes = form.locator('input[name="facility_ids"]');
  const applied = (await rows.first().locator("th").textContent()).trim();
  let other = null;
  for (let i = 0; i < (await boxes.count()); i++) {
    const label = await boxes.nth(i).locator("xpath=..").textContent();
    if (!label.includes(applied)) {
      other = boxes.nth(i);
      break;
    }
  }
  if (other) {
    await other.check();
    await form.locator(".child-apply-submit").click();
    await page.waitForSelector("#family-notice");
    assert.equal(await page.locator("#children tr[id^=cc-]").count(), 2);
  }
  // Applying again to an institution applied to is refused (nothing is
  // written), and the form says why.
  const again = page.locator("form.child-apply").first();
  const all = again.locator('input[name="facility_ids"]');
  for (let i = 0; i < Math.min(await all.count(), 5); i++) await all.nth(i).check();
  await again.locator(".child-apply-submit").click();
  await page.waitForSelector("#form-errors");
  await assertAccessible("family application refused");
  await shot("enrolment-01-family");

  // ---- the institution: classes with places; an offer that breaks a rule, then one that fits.
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/applications?lang=zh-CN`);
  await page.waitForSelector("#class-places");
  await assertAccessible("institution's applications");
  await shot("enrolment-02-institution");
  await page.goto(`${ctx.base}/console/childcare/applications/${appId}?lang=zh-CN`);
  await page.waitForSelector("#offer-form");
  await assertAccessible("an application to offer");
  const options = await page.locator("#o-class option").evaluateAll((os) => os.map((o) => o.value));
  assert.ok(options.length > 0, "the institution has classes");
  let offered = false;
  let refusals = 0;
  for (const cls of options) {
    await page.selectOption("#o-class", cls);
    await page.fill("#o-start", today);
    await page.click("#offer-submit");
    await page.waitForLoadState("load");
    if (await page.locator("#enrolment-notice").count()) {
      offered = true;
      break;
    }
    const why = await page.textContent("#form-errors");
    // Each refusal names its rule: the class's ages, its places or its ratio.
    assert.match(why, /设置标准|months|1:\d|none is free/, why);
    refusals += 1;
    if (refusals === 1) {
      await assertAccessible("offer refused, the rule named");
      await shot("enrolment-03-offer-refused");
    }
  }
  assert.ok(offered, "a fitting class took the offer");
  assert.equal(await page.getAttribute("#application-status", "data-status"), "offered");

  // ---- the parent accepts.
  await login("family", "demo-family-2026");
  await page.goto(`${ctx.base}/console/family?lang=zh-CN`);
  await page.click(`#cc-${appId} .cc-accept`);
  await page.waitForSelector("#family-notice");
  assert.equal(await page.getAttribute(`#cc-${appId}`, "data-status"), "accepted");
  await assertAccessible("family accepted the place");

  // ---- the institution enrols: vaccinations first, then the enrolment.
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/applications/${appId}?lang=zh-CN`);
  await page.fill("#e-hc", today);
  await page.click("#enrol-submit");
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /第十一条/);
  await assertAccessible("enrolment refused: vaccinations");
  await page.fill("#e-hc", today);
  await page.check("#e-vac");
  await page.click("#enrol-submit");
  await page.waitForSelector("#enrolment-notice");
  assert.equal(await page.getAttribute("#application-status", "data-status"), "enrolled");
  assert.match(await page.textContent("#application-enrolment"), /^EN-/);
  await shot("enrolment-04-enrolled");

  // ---- the parent sees the child enrolled and the other application closed.
  await login("family", "demo-family-2026");
  await page.goto(`${ctx.base}/console/family?lang=zh-CN`);
  assert.equal(await page.getAttribute(`#cc-${appId}`, "data-status"), "enrolled");
  if (other) {
    assert.equal(await page.locator('#children tr[data-status="cancelled"]').count(), 1);
  }

  // ---- the county sees the enrolment among its area's applications.
  await login("county", "demo-county-2026");
  await page.goto(`${ctx.base}/console/childcare/applications?status=enrolled&lang=zh-CN`);
  assert.ok((await page.locator('#enrolment-list tr[data-status="enrolled"]').count()) >= 1);
  await assertAccessible("county's enrolled applications");
  await page.goto(`${ctx.base}/console/childcare/applications?lang=en`);
  await assertAccessible("county's applications in English");
});

test("the day: the parent authorises a pickup, the institution checks the child in and out (a stranger refused), the parent reads the report", async () => {
  const page = ctx.page;

  // ---- the parent authorises who may collect the child.
  await login("family", "demo-family-2026");
  await page.goto(`${ctx.base}/console/family?lang=zh-CN`);
  await page.click("a.child-day");
  await page.waitForSelector("#pickup-form");
  await assertAccessible("family day page");
  const childUrl = page.url().split("?")[0];
  await page.fill("#p-name", "演示妈妈");
  await page.selectOption("#p-rel", "parent");
  await page.fill("#p-phone", "13800001234");
  await page.click("#pickup-submit");
  await page.waitForSelector("#day-notice");
  assert.match(await page.textContent("#pickup-list"), /演示妈妈（父母）/);

  // ---- the institution at the door.
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/day?lang=zh-CN`);
  await page.waitForSelector("#day-classes");
  await assertAccessible("institution's classes today");
  // The class that holds the enrolled child: the one whose sheet lists a
  // child with the parent's pickup.
  const links = await page.locator("#day-classes a").evaluateAll((as) => as.map((a) => a.href));
  let card = null;
  for (const href of links) {
    await page.goto(href);
    await page.waitForSelector("#day-sheet");
    const c = page.locator("li.day-child").filter({ has: page.locator("form.check-in-form option", { hasText: /^演\*+（父母）$/ }) });
    if (await c.count()) {
      card = c.first();
      break;
    }
  }
  assert.ok(card, "the enrolled child is on a class's sheet");
  const enrolment = await card.getAttribute("data-enrolment");
  const sel = `li.day-child[data-enrolment="${enrolment}"]`;
  // A stranger is refused and the refusal logged.
  await page.selectOption(`${sel} form.check-in-form select[name=pickup_id]`, "");
  await page.fill(`${sel} form.check-in-form input[name=presented]`, "自称舅舅");
  await page.click(`${sel} form.check-in-form button`);
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /refused and logged/);
  await assertAccessible("check-in refused");
  await shot("day-01-refused");
  // The mother brings the child (her name masked at the door); the morning check at 36.6 °C.
  const mum = await page.locator(`${sel} form.check-in-form option`, { hasText: /^演\*+（父母）$/ }).getAttribute("value");
  await page.selectOption(`${sel} form.check-in-form select[name=pickup_id]`, mum);
  await page.fill(`${sel} form.check-in-form input[name=temperature]`, "36.6");
  await page.click(`${sel} form.check-in-form button`);
  await page.waitForSelector("#day-notice");
  assert.equal(await page.getAttribute(sel, "data-status"), "present");
  await page.fill("#o-min", "30");
  await page.click("#outdoor-form button");
  await page.waitForSelector("#day-notice");
  assert.ok(await page.locator("#outdoor-short").count(), "30 minutes is short of 2 hours");
  await assertAccessible("class day with the child present");
  await shot("day-02-present");
  await page.click(`${sel} form.check-out-form button`);
  await page.waitForSelector("#day-notice");
  assert.equal(await page.getAttribute(sel, "data-status"), "left");

  // ---- the parent reads the day, the refusal included.
  await login("family", "demo-family-2026");
  await page.goto(`${childUrl}?lang=zh-CN`);
  await page.waitForSelector("#daily-report");
  assert.equal(await page.getAttribute("#daily-report", "data-status"), "left");
  assert.match(await page.textContent("#report-out"), /演示妈妈（父母）/);
  assert.match(await page.textContent("#report-refusals"), /自称舅舅/);
  await assertAccessible("parent's daily report");
  await shot("day-03-report");

  // ---- the county reads its area's classes.
  await login("county", "demo-county-2026");
  await page.goto(`${ctx.base}/console/childcare/day?lang=en`);
  await page.waitForSelector("#day-classes");
  await assertAccessible("county's classes in English");
});

test("the bill: the institution sets its prices and bills the month, the parent reads the bill, the institution records a payment, the county reads the area", async () => {
  const page = ctx.page;

  // ---- the institution: prices (a bad one named), then the month billed.
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/bills?lang=zh-CN`);
  await page.waitForSelector("#bill-price-form");
  await assertAccessible("institution's bills page");
  await page.fill("#p-meal_refund", "abc");
  await page.click("#bill-price-form button");
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /meal_refund/);
  await page.fill("#p-meal_refund", "20");
  await page.click("#bill-price-form button");
  await page.waitForSelector("#bill-notice");
  assert.equal(await page.inputValue("#p-meal_refund"), "20.00");
  await page.click("#bill-generate button");
  await page.waitForSelector("#bill-generated");
  // The child enrolled by the test before has a bill now.
  assert.ok(Number(await page.textContent("#gen-created")) >= 1, "a bill made for the newly enrolled child");
  assert.ok(await page.locator("#bill-list tbody tr").count() >= 1);
  await assertAccessible("bills made");
  await shot("bill-01-statement");

  // ---- the parent reads the bill.
  await login("family", "demo-family-2026");
  await page.goto(`${ctx.base}/console/family?lang=zh-CN`);
  await page.click("a.child-bills");
  await page.waitForSelector("#family-bills");
  await page.waitForSelector("#family-bill");
  assert.equal(await page.getAttribute("#bill-status", "data-status"), "open");
  const billHref = await page.locator("#family-bills tbody a").first().getAttribute("href");
  const billId = decodeURIComponent(new URL(billHref, ctx.base).searchParams.get("bill"));
  const familyUrl = page.url();
  await assertAccessible("parent's bill");
  await shot("bill-02-parent");

  // ---- the institution records a payment of 100 yuan by WeChat Pay.
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/bills/${encodeURIComponent(billId)}?lang=zh-CN`);
  await page.waitForSelector("#bill-pay-form");
  await page.fill("#pay-amount", "100");
  await page.selectOption("#pay-method", "wechat_pay");
  await page.fill("#pay-ref", "WX-20261203");
  await page.click("#bill-pay-form button");
  await page.waitForSelector("#bill-notice");
  assert.equal(await page.getAttribute("#bill-status", "data-status"), "partly_paid");
  assert.match(await page.textContent("#bill-payments"), /100\.00/);
  await assertAccessible("bill with a payment");
  await shot("bill-03-paid");

  // ---- the parent sees the payment.
  await login("family", "demo-family-2026");
  await page.goto(familyUrl);
  await page.waitForSelector("#bill-payments");
  assert.match(await page.textContent("#bill-payments"), /微信支付/);

  // ---- the county reads the area's month and one institution's statement.
  await login("county", "demo-county-2026");
  await page.goto(`${ctx.base}/console/childcare/bills?lang=en`);
  await page.waitForSelector("#bill-area-table");
  await assertAccessible("county's bills in English");
  await page.click("#bill-area-table tbody a");
  await page.waitForSelector("#bill-list");
  assert.equal(await page.locator("#bill-price-form").count(), 0, "the county reads, does not bill");
  await shot("bill-04-county");
});

test("the supervision figures: the county reads its institutions and towns, the institution its own", async () => {
  const page = ctx.page;

  // ---- the county: its total, its towns and its institutions, definitions below.
  await login("county", "demo-county-2026");
  await page.goto(`${ctx.base}/console/childcare/figures?lang=zh-CN`);
  await page.waitForSelector("#figures-areas");
  assert.match(await page.textContent("h1"), /托育机构监管指标/);
  assert.ok((await page.locator("#figures-areas tbody tr").count()) > 1, "the county's towns are listed");
  assert.ok((await page.locator("#figures-institutions tbody tr").count()) > 0, "the county has institutions");
  assert.equal(await page.locator("#figures-notes li").count(), 10, "each figure's definition");
  await assertAccessible("county's supervision figures");
  await shot("figures-01-county");

  // A window over 92 days is refused on the field, the page stays accessible.
  await page.goto(`${ctx.base}/console/childcare/figures?lang=zh-CN&from=2026-01-01&to=2026-06-30`);
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /to/);
  await assertAccessible("figures with a window too long");

  // ---- the institution: its own line only, in English.
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/figures?lang=en`);
  await page.waitForSelector("#figures-institutions");
  assert.equal(await page.locator("#figures-institutions tbody tr").count(), 1, "its own institution only");
  await assertAccessible("institution's figures in English");
  await shot("figures-02-institution");
});

test("parents in the loop: the parent writes to the class, the class answers and sends a notice, the parent reads its notifications, the city sees them delivered", async () => {
  const page = ctx.page;

  // ---- the parent writes (an empty message is refused on the form).
  await login("family", "demo-family-2026");
  await page.goto(`${ctx.base}/console/family?lang=zh-CN`);
  await page.click("a.child-messages");
  await page.waitForSelector("#msg-form");
  await assertAccessible("parent's thread, empty");
  const childUrl = page.url().split("?")[0].split("#")[0];
  await page.fill("#msg-body", "   ");
  await page.evaluate(() => document.querySelector("#msg-body").removeAttribute("required"));
  await page.click("#msg-form button");
  await page.waitForSelector("#form-errors");
  assert.match(await page.textContent("#form-errors"), /body/);
  await assertAccessible("parent's empty message refused");
  await page.fill("#msg-body", "老师好，孩子昨晚有点咳嗽，午睡时请帮忙留意。");
  await page.click("#msg-form button");
  await page.waitForSelector("#msg-notice");
  assert.match(await page.textContent("#thread li.msg-family:last-of-type"), /有点咳嗽/);

  // ---- the institution: the unread thread first; it answers and sends a class notice.
  await login("childcare", "demo-childcare-2026");
  await page.goto(`${ctx.base}/console/childcare/messages?lang=zh-CN`);
  await page.waitForSelector("#threads");
  await assertAccessible("institution's threads");
  assert.ok((await page.locator("#threads tr.unread").count()) >= 1, "the parent's message is unread");
  await shot("messages-01-institution");
  await page.click("#threads tr.unread a");
  await page.waitForSelector("#msg-form");
  assert.match(await page.textContent("#thread"), /有点咳嗽/);
  await page.fill("#msg-body", "好的，我们会留意午睡和饮水，有变化及时联系您。");
  await page.click("#msg-form button");
  await page.waitForSelector("#msg-notice");
  await assertAccessible("institution answered");
  const cls = await page.getAttribute("#thread-class", "data-class");
  assert.ok(cls, "the child is in a class");
  await page.goto(`${ctx.base}/console/childcare/messages?lang=zh-CN`);
  await page.selectOption("#notice-class", cls);
  await page.fill("#notice-body", "本周五上午组织户外活动，请给孩子穿运动鞋。");
  await page.click("#notice-form button");
  await page.waitForSelector("#msg-notice");
  assert.match(await page.textContent("#notices"), /运动鞋/);
  await assertAccessible("class notice sent");

  // ---- the parent: the answer and the notice in the thread, and as notifications.
  await login("family", "demo-family-2026");
  await page.goto(`${childUrl}?lang=zh-CN`);
  await page.waitForSelector("#thread");
  assert.match(await page.textContent("#thread li.msg-institution"), /会留意/);
  assert.match(await page.textContent("#thread"), /运动鞋/);
  await shot("messages-02-parent");
  await page.click("#nav-notifications");
  await page.waitForSelector("#inbox");
  const kinds = await page.locator("#inbox li").evaluateAll((ls) => ls.map((l) => l.dataset.kind));
  assert.ok(kinds.includes("机构回复"), kinds.join(","));
  assert.ok(kinds.includes("班级通知"), kinds.join(","));
  assert.ok(kinds.includes("每日报告"), "the day's check-out told the parent: " + kinds.join(","));
  assert.ok((await page.locator("#inbox li.unread").count()) >= 2);
  await assertAccessible("parent's notifications");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("messages-03-notifications-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click("#mark-read button");
  await page.waitForSelector("#inbox-notice");
  assert.equal(await page.locator("#inbox li.unread").count(), 0);

  // ---- the city: the worker has delivered them through the local stand-in (within seconds).
  await login("city", "demo-city-2026");
  let sent = 0;
  for (let i = 0; i < 20 && sent === 0; i++) {
    await page.goto(`${ctx.base}/console/notifications?lang=zh-CN`);
    await page.waitForSelector("#delivery-counts");
    sent = await page.locator("#delivery-counts tbody tr").evaluateAll((rs) =>
      rs.filter((r) => r.querySelector("th").textContent.includes("机构回复"))
        .map((r) => Number(r.querySelectorAll("td")[1].textContent))
        .reduce((a, b) => a + b, 0));
    if (sent === 0) await new Promise((r) => setTimeout(r, 1000));
  }
  assert.ok(sent >= 1, "the institution's answer was delivered");
  await assertAccessible("delivery health");
  await shot("messages-04-delivery");
});
