// Drives the dashboard in Debian's chromium through playwright-core (no
// browser download). Input: environment WARD_URL, WARD_ADMIN_TOKEN,
// WARD_READ_TOKEN, WARD_EXPECT (JSON: overview numbers), WARD_SUPPRESS_ID,
// WARD_ARTIFACTS (screenshots), WARD_PLAYWRIGHT_DIR. Exits non-zero on the
// first failed check or on any console error or page error.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.WARD_PLAYWRIGHT_DIR, "/"));
const { chromium } = require("playwright-core");

const base = process.env.WARD_URL;
const expect = JSON.parse(process.env.WARD_EXPECT);
const shots = process.env.WARD_ARTIFACTS;
const errors = [];

function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
}

const browser = await chromium.launch({
  executablePath: process.env.WARD_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update"],
});
try {
  async function newPage(scheme) {
    const ctx = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    return page;
  }
  async function shot(page, name) {
    await page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });
  }
  async function login(page, token) {
    await page.goto(base + "/");
    check(new URL(page.url()).pathname === "/login", "unauthenticated visit lands on /login");
    await page.fill("#token", token);
    await Promise.all([page.waitForNavigation(), page.click("form[action='/login'] button[type=submit]")]);
    check(new URL(page.url()).pathname === "/", "login lands on the overview, not " + page.url() + ": " + (await page.textContent("main")).trim().slice(0, 200));
  }

  // Admin, light scheme.
  const admin = await newPage("light");
  await login(admin, process.env.WARD_ADMIN_TOKEN);
  for (const [k, v] of Object.entries(expect)) {
    const got = (await admin.textContent(`.tiles [data-count="${k}"]`)).trim();
    check(got === String(v), `overview ${k}: got ${got}, want ${v}`);
  }
  check(await admin.locator("svg.chart polyline").count() === 5, "trend chart has five lines");
  await shot(admin, "overview");

  // Keyboard: skip link first, then the nav.
  await admin.keyboard.press("Tab");
  check(await admin.evaluate(() => document.activeElement.className) === "skip", "first Tab reaches the skip link");

  // Findings: filter by kind through the select (applies at once), URL holds it.
  await admin.click("nav >> text=Findings");
  await admin.selectOption("select[name=kind]", "vulnerability");
  await admin.waitForURL(/kind=vulnerability/);
  const kinds = await admin.locator("table.findings tbody .muted").allTextContents();
  check(kinds.length > 0 && kinds.every((t) => t.startsWith("vulnerability")), "kind filter shows only vulnerabilities");
  await shot(admin, "findings");

  // Suppress one finding and see it disappear from the open list.
  const id = process.env.WARD_SUPPRESS_ID;
  await admin.goto(base + "/findings?severity=CRITICAL");
  check(await admin.locator(`a[href="/findings/${id}"]`).count() === 1, "finding to suppress is listed");
  await admin.click(`a[href="/findings/${id}"]`);
  await shot(admin, "finding");
  await admin.fill("#reason", "Accepted risk: the vulnerable code path is not reachable (e2e)");
  await admin.click("form.suppress button[type=submit]");
  await admin.waitForURL(/done=suppressed/);
  check((await admin.textContent(".facts dd")).includes("suppressed"), "detail shows suppressed");
  await admin.goto(base + "/findings?severity=CRITICAL");
  check(await admin.locator(`a[href="/findings/${id}"]`).count() === 0, "suppressed finding gone from the open list");

  // Read role, dark scheme: no write actions, POST refused.
  const reader = await newPage("dark");
  await login(reader, process.env.WARD_READ_TOKEN);
  await shot(reader, "overview-dark");
  await reader.goto(base + "/findings/" + id);
  check(await reader.locator("form.suppress, form[action$=unsuppress]").count() === 0, "read role sees no suppress form");
  const csrf = await reader.inputValue("header form input[name=csrf]");
  const status = await reader.evaluate(async ([u, c]) => {
    const r = await fetch(u, { method: "POST", body: new URLSearchParams({ csrf: c, reason: "x" }) });
    return r.status;
  }, [base + "/findings/" + id + "/unsuppress", csrf]);
  check(status === 403, `read role POST: ${status}, want 403`);
  await shot(reader, "finding-read");

  await admin.goto(base + "/login?next=/");
  await admin.context().clearCookies();
  await admin.goto(base + "/login");
  await shot(admin, "login");
} finally {
  await browser.close();
}
// The 403 above is expected; Chromium logs failed fetches as console errors.
const unexpected = errors.filter((e) => !e.includes("403"));
if (unexpected.length) {
  console.error(unexpected.join("\n"));
  process.exit(1);
}
console.log("e2e: all checks passed");
