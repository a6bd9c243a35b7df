// Drives the dashboard in Debian's chromium through playwright-core (no
// browser download) against a real `ward server` handler (API and
// dashboard over one store). Input: environment WARD_URL, WARD_ADMIN_TOKEN,
// WARD_READ_TOKEN, WARD_INGEST_TOKEN, WARD_SUPPRESS_ID, WARD_LIVE_ALERT
// (one alert to send through POST /api/v1/alerts while the runtime page is
// open), WARD_IMAGE (an image to open), WARD_ARTIFACTS (screenshots),
// WARD_PLAYWRIGHT_DIR. Exits non-zero on the first failed check or on any
// console error or page error.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.WARD_PLAYWRIGHT_DIR, "/"));
const { chromium } = require("playwright-core");

const base = process.env.WARD_URL;
const liveAlert = JSON.parse(process.env.WARD_LIVE_ALERT);
const shots = process.env.WARD_ARTIFACTS;
const errors = [];

function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
}

// api calls the server's REST API (from node, not the page).
async function api(method, p, tok, body) {
  const r = await fetch(base + p, {
    method, headers: { Authorization: "Bearer " + tok, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// openCount counts the open findings the API lists (optionally of one severity).
async function openCount(severity) {
  let n = 0, cursor = "";
  for (;;) {
    const q = new URLSearchParams({ status: "open", limit: "1000" });
    if (severity) q.set("severity", severity);
    if (cursor) q.set("cursor", cursor);
    const page = await api("GET", "/api/v1/findings?" + q, process.env.WARD_ADMIN_TOKEN);
    n += page.items.length;
    if (!page.next) return n;
    cursor = page.next;
  }
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
  // The overview's numbers are the API's.
  const expect = { total: await openCount("") };
  for (const sev of ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]) expect[sev] = await openCount(sev);
  check(expect.total > 0, "the seed has open findings");
  for (const [k, v] of Object.entries(expect)) {
    const got = (await admin.textContent(`.tiles [data-count="${k}"]`)).trim();
    check(got === String(v), `overview ${k}: got ${got}, want ${v} (API)`);
  }
  check((await admin.textContent("table.risky")).includes(process.env.WARD_IMAGE), "riskiest images lists the seed image");
  check((await admin.textContent("[data-live=sensor-health]")).includes("fixture-host"), "sensor health lists the seeded sensor");
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

  // Images: both seed images with counts; open one: its findings only.
  await admin.click("nav >> text=Images");
  await admin.waitForURL(/\/images$/);
  check(await admin.locator("table.targets tbody tr").count() === 2, "images page lists the two seed images");
  // Signed?: each image's cell says what the API's signature state is
  // (the seed's images were never checked: "not checked").
  const apiTargets = await api("GET", "/api/v1/targets?type=container_image&limit=100", process.env.WARD_ADMIN_TOKEN);
  check(apiTargets.items.length === 2, "API lists the two seed images");
  for (const t of apiTargets.items) {
    const cell = admin.locator(`table.targets [data-signature="${t.name}"] [data-sig]`);
    const sig = await cell.getAttribute("data-sig");
    const want = t.signature ? t.signature.state : "none";
    check(sig === want, `${t.name} Signed?: ${sig}, want ${want} (API)`);
    if (!t.signature) check((await cell.textContent()).trim() === "not checked", `${t.name} says not checked`);
  }
  await shot(admin, "images");
  const img = process.env.WARD_IMAGE;
  const want = (await admin.textContent(`table.targets [data-open="${img}"]`)).trim();
  await admin.click(`table.targets a:text-is("${img}")`);
  await admin.waitForURL(/\/findings\?target=/);
  const targets = await admin.locator("table.findings tbody td.wrap:nth-child(3)").allTextContents();
  check(targets.length === Math.min(Number(want), 50) && targets.every((t) => t === img), `image drill-down: ${targets.length} rows of ${img}, want ${want}`);
  await shot(admin, "image-findings");

  // Image detail: packages and layers from the stored inventory, and an
  // SBOM download that parses.
  await admin.click("nav >> text=Images");
  await admin.waitForURL(/\/images$/);
  await admin.click(`table.targets a[aria-label="Details of ${img}"]`);
  await admin.waitForURL(/\/images\/detail\?target=/);
  check((await admin.textContent("h1")).trim() === img, "image detail names the image");
  check(await admin.locator("table.packages tbody tr").count() > 0, "image detail lists packages");
  check(await admin.locator("table.layers tbody tr").count() > 0, "image detail lists layers");
  const sbomHref = await admin.getAttribute("a.sbom >> nth=0", "href");
  const sbom = await admin.request.get(new URL(sbomHref, admin.url()).toString());
  check(sbom.ok(), "CycloneDX download answers " + sbom.status());
  const doc = await sbom.json();
  check(Array.isArray(doc.components) && doc.components.length > 0, "CycloneDX download lists components");
  await shot(admin, "image-detail");

  // Cluster: namespaces from the manifests, the CIS score.
  await admin.click("nav >> text=Cluster");
  const ns = await admin.locator("table.namespaces tbody tr td:first-child").allTextContents();
  check(ns.includes("default") && ns.includes("monitoring"), "cluster page lists the namespaces: " + ns.join(","));
  // Escalation chains: every open K8S-RBAC-014 finding is drawn, each
  // with its steps; eve's goes through two bindings.
  const chains = await api("GET", "/api/v1/findings?status=open&rule=K8S-RBAC-014&limit=100", process.env.WARD_ADMIN_TOKEN);
  check(chains.items.length > 0, "the seed has escalation chains");
  check(await admin.locator("li.chain").count() === Math.min(chains.items.length, 20), `cluster page draws ${chains.items.length} chains`);
  for (const c of chains.items) {
    const steps = c.escalation.steps.length;
    const li = admin.locator(`li.chain[data-chain="${c.id}"]`);
    check(await li.locator(".chain-step").count() === steps, `chain ${c.id}: ${steps} steps drawn`);
    for (const st of c.escalation.steps) {
      const text = await li.textContent();
      check(text.includes(st.action) && (!st.binding || text.includes(st.binding)) && text.includes(st.to), `chain ${c.id} names step ${st.action} via ${st.binding}`);
    }
  }
  const eve = admin.locator("li.chain", { hasText: "User eve can become" });
  check(await eve.locator(".chain-step").count() === 2, "eve's chain has two steps");
  // The four compliance scores are the API's.
  const comp = await api("GET", "/api/v1/compliance", process.env.WARD_ADMIN_TOKEN);
  const fws = comp.items.map((c) => c.framework);
  for (const fw of ["k8s-cis", "k8s-nsa", "k8s-pss-baseline", "k8s-pss-restricted"]) check(fws.includes(fw), `API scores ${fw}: ${fws}`);
  check(await admin.locator("table.compliance tbody tr").count() === comp.items.length, "one score row per framework");
  for (const c of comp.items) {
    const got = (await admin.textContent(`[data-score="${c.framework}"]`)).trim();
    check(got === String(c.score), `${c.framework} score ${got}, want ${c.score} (API)`);
  }
  await shot(admin, "cluster");
  await eve.locator(".chain-head a").click();
  await admin.waitForURL(/\/findings\/\d+$/);
  check(await admin.locator("table.chain tbody tr").count() === 2, "finding detail draws eve's two steps");
  check((await admin.textContent("table.chain")).includes("RoleBinding/web/eve-exec"), "finding detail names the first binding");
  await shot(admin, "finding-chain");

  // Compliance drill-down: restricted (baseline included) lists its
  // failing controls; one of them lists its open findings.
  await admin.goto(base + "/cluster");
  await admin.click('a[data-framework="k8s-pss-restricted"]');
  await admin.waitForURL(/framework=k8s-pss-restricted/);
  const failing = Number((await admin.textContent('[data-failing="k8s-pss-restricted"]')).trim());
  const restricted = comp.items.find((c) => c.framework === "k8s-pss-restricted");
  check(failing === restricted.failed, `restricted: ${failing} failing controls, want ${restricted.failed} (API)`);
  check(await admin.locator("a[data-control]").count() === failing, "each failing control links to its findings");
  await shot(admin, "compliance");
  await admin.click('a[data-control="privileged"]');
  await admin.waitForURL(/control=privileged/);
  const rules = await admin.locator("table.findings tbody tr").allTextContents();
  check(rules.length > 0 && rules.every((r) => r.includes("WARD-PSS-PRIVILEGED")), `privileged drill-down lists the privileged findings: ${rules.length}`);
  await shot(admin, "compliance-control");

  // Runtime: an alert sent through the API while the page is open shows
  // up without a reload (the page polls itself).
  await admin.click("nav >> text=Runtime");
  await admin.waitForURL(/\/runtime$/);
  const rule = liveAlert.rule;
  check(await admin.locator(`ol.timeline a:text-is("${rule}")`).count() === 0, "the live alert is not there yet");
  const before = await admin.locator("ol.timeline li").count();
  await admin.evaluate(() => { window.__wardNoReload = true; });
  const res = await api("POST", "/api/v1/alerts", process.env.WARD_INGEST_TOKEN,
    { node: "fixture-host", sensor_id: "sensor-1", seq: 100, alerts: [liveAlert] });
  check(res.accepted === 1, "API accepted the alert: " + JSON.stringify(res));
  await admin.locator(`ol.timeline a:text-is("${rule}")`).first().waitFor({ timeout: 15000 });
  check(await admin.evaluate(() => window.__wardNoReload === true), "the page was not reloaded");
  check(await admin.locator("ol.timeline li").count() === before + 1, "one more alert in the timeline");
  check((await admin.textContent("nav.pager")).includes(`${before + 1} shown`), "the pager counts the new alert");
  await shot(admin, "runtime");
  await admin.click(`ol.timeline a:text-is("${rule}")`);
  check((await admin.textContent("main")).includes("Process tree"), "alert detail shows the process tree");
  await shot(admin, "alert");

  // Sensors: a heartbeat of a new sensor through the API appears live.
  await admin.goto(base + "/sensors");
  await api("POST", "/api/v1/heartbeats", process.env.WARD_INGEST_TOKEN,
    { node: "node-e2e", sensor_id: "sensor-e2e", version: "e2e", started: new Date().toISOString(), events: 10, drops: 2, alerts: 0, spooled: 0 });
  await admin.locator('table.sensors a:text-is("node-e2e")').waitFor({ timeout: 15000 });
  check((await admin.textContent("table.sensors")).includes("dropping events"), "sensor with drops is marked");
  await shot(admin, "sensors");

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
  await reader.goto(base + "/cluster");
  check(await reader.locator("li.chain").count() > 0, "read role sees the escalation chains");
  await shot(reader, "cluster-dark");
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
