// Browser tests of the services families order (子女网上下单, docs/family.md),
// through the console's forms end to end: the demo family sees its verified
// relative, her vouchers and orders in every state; orders a service (the
// voucher pays first, the family the rest), and a resent form changes
// nothing; cancels and rates; asks to link another relative; the town's staff
// verify a link; the provider accepts and delivers; the city sees the month's
// settlement. A family sees nobody else. Every page runs axe-core.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible, visitAccessible } from "./harness.mjs";

useDemo();

/** Yuan text ("80.50") to fen. */
const fen = (s) => Math.round(parseFloat(s.trim()) * 100);

/** The rows of the family's order table: id, status and money columns. */
async function orderRows() {
  return ctx.page.locator("#orders tbody tr").evaluateAll((rows) =>
    rows.map((r) => ({
      id: r.id.replace(/^order-/, ""),
      status: r.dataset.status,
      item: r.cells[1].textContent,
      total: r.cells[4].textContent,
      voucher: r.cells[5].textContent,
      family: r.cells[6].textContent,
      why: r.cells[7].textContent,
    })),
  );
}

test("family: the login page lists the family account", async () => {
  await ctx.page.goto(`${ctx.base}/console/login`);
  const users = await ctx.page.locator("#demo-accounts tbody td:first-child").allTextContents();
  assert.ok(users.map((x) => x.trim()).includes("family"), "demo account family listed");
});

test("family: the home shows the verified relative, her vouchers and the orders", async () => {
  await login("family", "demo-family-2026");
  await visitAccessible("family home", "/console/family");
  assert.equal(await ctx.page.locator("#no-relatives").count(), 0, "one verified relative");
  assert.equal(await ctx.page.locator("a.order-link").count(), 1, "one relative to order for");
  const statuses = (await orderRows()).map((o) => o.status);
  for (const s of ["rated", "delivered", "accepted", "placed", "cancelled", "refused"]) {
    assert.ok(statuses.includes(s), `an order ${s}`);
  }
  // Every order explains its split: the voucher first, the family the rest.
  for (const o of await orderRows()) {
    assert.ok(o.why.includes("家属支付"), `order ${o.id} explains the split`);
    assert.equal(fen(o.voucher) + fen(o.family), fen(o.total), `order ${o.id}: voucher + family = total`);
  }
  // The demo's second link waits for the town's staff.
  assert.match(await ctx.page.textContent("#my-links"), /待核实/);
  await shot("family-01-home");
  await visitAccessible("family home (en)", "/console/family?lang=en");
  assert.match(await ctx.page.textContent("h1"), /My relatives/);
  await ctx.page.goto(`${ctx.base}/console/family?lang=zh-CN`);
});

test("family: order a service — the voucher pays first, a resent form changes nothing", async () => {
  await login("family", "demo-family-2026");
  await ctx.page.goto(`${ctx.base}/console/family`);
  const before = (await orderRows()).length;
  await ctx.page.click("a.order-link");
  await ctx.page.waitForSelector("#order-form");
  await assertAccessible("family order form");
  // What the escort voucher has left this month (none: 0).
  const balances = await ctx.page.locator("table.balances tbody tr").evaluateAll((rows) =>
    rows.map((r) => [r.cells[0].textContent.trim(), r.cells[2].textContent.trim()]),
  );
  const escortLeft = fen((balances.find(([c]) => c === "陪诊") || ["", "0"])[1]);

  // No service chosen: the error names the field, nothing is written.
  await ctx.page.click("#order-submit");
  await ctx.page.waitForSelector("#form-errors");
  assert.match(await ctx.page.textContent("#form-errors"), /item_id/);
  await assertAccessible("family order form with an error");

  const row = ctx.page.locator("#catalogue tbody tr", { hasText: "陪同就医" });
  await row.locator("input[type=radio]").check();
  const price = fen((await row.locator("td").nth(4).textContent()).split("/")[0]);
  await ctx.page.fill("#o-qty", "1");
  await ctx.page.fill("#o-note", "上午九点前到");
  const form = Object.fromEntries(
    await ctx.page.locator("#order-form").evaluate((f) => [...new FormData(f).entries()]),
  );
  await shot("family-02-order");
  await ctx.page.click("#order-submit");
  await ctx.page.waitForURL(/done=placed/);
  assert.match(await ctx.page.textContent("#family-notice"), /订单已提交/);
  const id = new URL(ctx.page.url()).hash.replace("#order-", "");
  const rows = await orderRows();
  const mine = rows.find((o) => o.id === id);
  assert.ok(mine, "the new order is listed");
  assert.equal(mine.status, "placed");
  assert.equal(fen(mine.total), price);
  assert.equal(fen(mine.voucher), Math.min(escortLeft, price), "the voucher pays first, up to what is left");
  assert.equal(fen(mine.family), price - Math.min(escortLeft, price), "the family pays the rest");

  // The same form again (a double click, a resend): the first order, no second.
  const relUrl = await ctx.page.locator("a.order-link").getAttribute("href");
  const again = await ctx.page.request.post(`${ctx.base}${relUrl}`, { form, maxRedirects: 0 });
  assert.equal(again.status(), 303, "the resent form redirects");
  assert.ok(again.headers()["location"].endsWith(`#order-${id}`), "to the first order");
  await ctx.page.goto(`${ctx.base}/console/family`);
  assert.equal((await orderRows()).length, rows.length, "no second order");
  assert.equal(rows.length, before + 1);

  // Cancel it: its voucher share comes back.
  const r = ctx.page.locator(`#order-${id}`);
  await r.locator("input[name=reason]").fill("时间有变");
  await r.locator(".cancel-form button").click();
  await ctx.page.waitForURL(/done=cancel/);
  assert.equal((await orderRows()).find((o) => o.id === id).status, "cancelled");
});

test("family: rate a delivered service, a missing rating named at its field", async () => {
  await login("family", "demo-family-2026");
  await ctx.page.goto(`${ctx.base}/console/family`);
  const delivered = (await orderRows()).find((o) => o.status === "delivered");
  assert.ok(delivered, "the demo has a delivered order");
  const r = ctx.page.locator(`#order-${delivered.id}`);
  await r.locator(".rate-form button").click();
  await ctx.page.waitForSelector("#form-errors");
  assert.match(await ctx.page.textContent("#form-errors"), /rating/);
  await assertAccessible("family rate error");
  await ctx.page.goto(`${ctx.base}/console/family`);
  await r.locator("select[name=rating]").selectOption("4");
  await r.locator("input[name=comment]").fill("很细心");
  await r.locator(".rate-form button").click();
  await ctx.page.waitForURL(/done=rate/);
  const after = (await orderRows()).find((o) => o.id === delivered.id);
  assert.equal(after.status, "rated");
});

test("family: a link request with a bad ID number is refused at its field", async () => {
  await login("family", "demo-family-2026");
  await ctx.page.goto(`${ctx.base}/console/family`);
  await ctx.page.fill("#l-id-number", "12345");
  await ctx.page.click("#link-submit");
  await ctx.page.waitForSelector("#form-errors");
  assert.match(await ctx.page.textContent("#form-errors"), /id_number/);
  assert.equal(await ctx.page.inputValue("#l-id-number"), "", "the typed number is not echoed back");
  await assertAccessible("family link error");
});

test("family: nobody else — registers, staff pages and others' records answer 403 or 404", async () => {
  await login("family", "demo-family-2026");
  for (const path of ["/console/elderly", "/console/facilities", "/console/transfers", "/console/family/links",
                      "/console/family/orders", "/console/family/settlement"]) {
    const r = await ctx.page.goto(`${ctx.base}${path}`);
    assert.equal(r.status(), 403, `${path} is closed to a family account`);
  }
  // A person who is not a verified relative: not found, whoever it is.
  const r = await ctx.page.goto(`${ctx.base}/console/family/relatives/P-NOT-MINE`);
  assert.equal(r.status(), 404);
});

test("town staff verify a family link; the family then sees two relatives", async () => {
  await login("town", "demo-town-2026");
  await ctx.page.goto(`${ctx.base}/console/home`);
  await ctx.page.click("nav.main-nav >> text=家属服务");
  await ctx.page.waitForSelector("#requested-links");
  await assertAccessible("family links (town)");
  await shot("family-03-links");
  const row = ctx.page.locator("#requested-links tbody tr", { hasText: "family" }).first();
  await row.locator("button[value=verify]").click();
  await ctx.page.waitForURL(/done=verify/);
  assert.match(await ctx.page.textContent("#verified-links"), /family/);
  await login("family", "demo-family-2026");
  await ctx.page.goto(`${ctx.base}/console/family`);
  assert.equal(await ctx.page.locator("a.order-link").count(), 2, "two verified relatives");
});

test("the provider accepts and delivers an order; a delivery without a name is refused", async () => {
  await login("operator", "demo-operator-2026");
  await ctx.page.goto(`${ctx.base}/console/my-facility`);
  await ctx.page.click("nav.main-nav >> text=家属服务");
  await ctx.page.waitForSelector("#order-tabs");
  await assertAccessible("provider queue");
  await shot("family-04-queue");
  const placed = ctx.page.locator("#queue tbody tr").first();
  const id = (await placed.getAttribute("id")).replace("order-", "");
  await placed.locator("button[value=accept]").click();
  await ctx.page.waitForURL(/done=accept/);
  await ctx.page.goto(`${ctx.base}/console/family/orders?status=accepted`);
  const row = ctx.page.locator(`#order-${id}`);
  await row.locator(".deliver-form button").click();
  await ctx.page.waitForSelector("#form-errors");
  assert.match(await ctx.page.textContent("#form-errors"), /delivered_by/);
  await assertAccessible("provider queue with an error");
  await ctx.page.goto(`${ctx.base}/console/family/orders?status=accepted`);
  await row.locator("input[name=delivered_by]").fill("张护理员");
  await row.locator(".deliver-form button").click();
  await ctx.page.waitForURL(/done=deliver/);
  await ctx.page.goto(`${ctx.base}/console/family/orders?status=delivered`);
  assert.equal(await ctx.page.locator(`#order-${id}`).count(), 1, "the order is delivered");
  assert.match(await ctx.page.textContent(`#order-${id}`), /张护理员/);
});

test("the city's settlement of the month per provider", async () => {
  await login("city", "demo-city-2026");
  await visitAccessible("settlement", "/console/family/settlement");
  const lines = await ctx.page.locator("#settlement tbody tr").count();
  assert.ok(lines >= 1, "a provider with delivered orders this month");
  const cells = await ctx.page.locator("#settlement tfoot td").allTextContents();
  assert.equal(fen(cells[2]) + fen(cells[3]), fen(cells[1]), "voucher + families = total");
  await shot("family-05-settlement");
  await visitAccessible("settlement (en)", "/console/family/settlement?lang=en");
  await visitAccessible("settlement bad month", "/console/family/settlement?month=2026-13", 400);
  await ctx.page.goto(`${ctx.base}/console/family/settlement?lang=zh-CN`);
});

test("family: apply for a care home for the relative, see the position, withdraw", async () => {
  await login("family", "demo-family-2026");
  await ctx.page.goto(`${ctx.base}/console/family`);
  await ctx.page.click("a.order-link");
  await ctx.page.waitForSelector("#adm-form");
  const relativeUrl = ctx.page.url();
  const homes = await ctx.page.locator("#adm-homes tbody tr").count();
  assert.ok(homes > 0, "the relative's county has care homes");
  // Nothing ticked: refused at the field, nothing written.
  await ctx.page.click("#adm-submit");
  await ctx.page.waitForSelector("#form-errors");
  assert.match(await ctx.page.textContent("#form-errors"), /facility_ids/);
  assert.equal(await ctx.page.locator("#adm-apps").count(), 0, "no application yet");
  await assertAccessible("family admission error");
  // One home ticked: the application waits with its position explained.
  await ctx.page.locator("#adm-homes tbody input[type=checkbox]").first().check();
  await ctx.page.fill("#adm-note", "母亲独居，行动不便");
  await ctx.page.click("#adm-submit");
  await ctx.page.waitForURL(/done=adm_applied/);
  const row = ctx.page.locator("#adm-apps tbody tr").first();
  assert.equal(await row.getAttribute("data-status"), "waiting");
  const cells = await row.locator("td").allTextContents();
  assert.match(cells[2], /^\s*\d+/, "a position on the home's list");
  assert.match(cells[2], /优先|类/, "and why");
  // The same home cannot be ticked twice.
  assert.equal(await ctx.page.locator("#adm-homes tbody input[type=checkbox]").first().isDisabled(), true);
  await assertAccessible("family admission waiting");
  await shot("family-09-admission");
  await visitAccessible("family admission en", `${new URL(relativeUrl).pathname}?lang=en`);
  assert.match(await ctx.page.textContent("#h-adm"), /Care-home application/);
  await ctx.page.goto(`${relativeUrl.split("?")[0]}?lang=zh-CN`);
  // Withdrawn: closed, no more buttons.
  await ctx.page.locator("#adm-apps tbody tr").first().locator("button[value=withdraw]").click();
  await ctx.page.waitForURL(/done=adm_withdraw/);
  assert.equal(await ctx.page.locator("#adm-apps tbody tr").first().getAttribute("data-status"), "withdrawn");
  assert.equal(await ctx.page.locator("#adm-apps tbody tr").first().locator("button").count(), 0);
  // An application id that is not her relatives' is not found.
  const r = await ctx.page.request.post(`${ctx.base}/console/family/admission/ADM-NOPE`, {
    form: { step: "withdraw", _csrf: await ctx.page.locator("input[name=_csrf]").first().inputValue() },
  });
  assert.equal(r.status(), 404);
});
