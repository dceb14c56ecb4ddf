// The browser half of the result view's test (crates/databricks-mcp/tests/it/result_view.rs):
// headless Chromium (the system's, driven by playwright-core) loads host.html, which
// renders the view as an MCP Apps host does, and feeds it real results the Rust test got
// from the local workspace. The view's tools/call requests go to the Rust test (a line of
// JSON on stdout; the answer comes back on stdin), which calls the real server with an
// MCP client: the page itself makes no request, and the test checks that it made none.
//
// Usage: node result_view.mjs CONFIG.json (written by the Rust test). stdout carries only
// JSON lines for the Rust test; the last is {"type":"report", ...}. Logs go to stderr.

import { createRequire } from "node:module";
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const require = createRequire(join(config.toolsDir, "package.json"));
const { chromium } = require("playwright-core");

const failures = [];
const observed = {};
function check(ok, message) {
  if (!ok) {
    failures.push(message);
    console.error("FAIL: " + message);
  }
  return ok;
}
const log = (...args) => console.error("[result_view]", ...args);

// ---- The bridge to the Rust test: tools/call on the real server ------------------------
let nextCall = 1;
const calls = new Map();
const input = createInterface({ input: process.stdin });
input.on("line", (line) => {
  const m = JSON.parse(line);
  const p = calls.get(m.id);
  if (!p) return;
  calls.delete(m.id);
  if (m.error) p.reject(new Error(m.error));
  else p.resolve(m.result);
});
function callTool(scenario, params) {
  const id = nextCall++;
  process.stdout.write(JSON.stringify({ type: "tools/call", id, scenario, params }) + "\n");
  return new Promise((resolve, reject) => calls.set(id, { resolve, reject }));
}

// ---- Helpers -------------------------------------------------------------------------
mkdirSync(config.artifacts, { recursive: true });
async function shot(page, name) {
  await page.waitForTimeout(300); // the frame takes the size the view reported
  // A viewport as tall as the page: Chromium's full-page capture can leave part of a
  // sandboxed (out-of-process) frame unpainted.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const size = page.viewportSize();
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, 200), 4000) });
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(config.artifacts, name + ".png") });
  await page.setViewportSize(size);
}
async function until(what, fn, timeoutMs = 20000) {
  const v = await eventually(fn, timeoutMs);
  if (!v) throw new Error("timed out waiting for " + what);
  return v;
}
// `fn`'s first truthy value within `timeoutMs`, else false.
async function eventually(fn, timeoutMs) {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
// What the view draws, read from its DOM.
async function chartState(frame) {
  return frame.evaluate(() => {
    const svg = document.querySelector("#chart svg");
    const marks = {};
    if (svg) for (const m of svg.querySelectorAll(".mark")) {
      const s = m.getAttribute("data-series") || "0";
      marks[s] = (marks[s] || 0) + 1;
    }
    return {
      kind: svg ? svg.getAttribute("data-kind") : null,
      kinds: svg ? svg.getAttribute("data-kinds").split(",").filter(Boolean) : [],
      marks,
      total: svg ? svg.querySelectorAll(".mark").length : 0,
      rows: document.querySelectorAll("#table tbody tr").length,
    };
  });
}
async function a11y(frame, name) {
  const r = await frame.evaluate(() => {
    const svg = document.querySelector("#chart svg");
    if (!svg) return null;
    const ids = (svg.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    return {
      role: svg.getAttribute("role"),
      labelled: ids.length === 2 && ids.every((id) => document.getElementById(id)),
      title: (svg.querySelector("title") || {}).textContent || "",
      desc: (svg.querySelector("desc") || {}).textContent || "",
      controls: [...document.querySelectorAll("#switch > *, th > *, #more > button")].every((e) => e.tagName === "BUTTON"),
    };
  });
  check(r && r.role === "img" && r.labelled && r.title && r.desc, `${name}: the chart has role=img, a title and a description: ${JSON.stringify(r)}`);
  check(r && r.controls, `${name}: every control (chart switch, column headings, more rows) is a button`);
}
async function columnValues(frame, column) {
  return frame.evaluate((c) => [...document.querySelectorAll("#table tbody tr")].map((tr) => tr.children[c].textContent), column);
}
const asNumber = (s) => parseFloat(s.replace(/,/g, ""));

// ---- The host harness with one result ---------------------------------------------------
async function openHost(context, scenario, extra = {}) {
  const page = await context.newPage();
  page.on("pageerror", (e) => check(false, `${scenario.name}: page error: ${e}`));
  page.on("console", (m) => { if (m.type() === "error") check(false, `${scenario.name}: console error: ${m.text()}`); });
  await page.exposeFunction("hostCallTool", (params) => callTool(scenario.name, params));
  await page.setContent(readFileSync(new URL("./host.html", import.meta.url), "utf8"));
  await page.evaluate((opts) => window.startView(opts), {
    html: config.view.html, meta: config.view.meta, tool: scenario.toolDef, tools: scenario.tools,
    input: scenario.arguments, result: scenario.result, context: extra.context || {},
  });
  const frame = await until("the view's frame", async () => page.frames().find((f) => f !== page.mainFrame()));
  await until(`${scenario.name}: the view's first rows`, async () => (await frame.locator("#table tbody tr").count()) > 0);
  return { page, frame };
}

async function handshake(page, name) {
  const hostLog = await page.evaluate(() => window.hostLog);
  const init = hostLog.find((m) => m.method === "ui/initialize");
  check(init && init.id !== undefined, `${name}: the view sent the ui/initialize request`);
  if (init) {
    const p = init.params || {};
    check(p.protocolVersion === "2026-01-26" && p.appInfo && p.appInfo.name && p.appCapabilities,
      `${name}: ui/initialize carries protocolVersion 2026-01-26, appInfo and appCapabilities: ${JSON.stringify(p)}`);
  }
  const i = hostLog.findIndex((m) => m.method === "ui/notifications/initialized");
  check(i > hostLog.indexOf(init), `${name}: ui/notifications/initialized follows ui/initialize`);
  const sizes = await until(`${name}: a size-changed notification`, () => page.evaluate(() => window.hostState.sizes.length && window.hostState.sizes));
  check(sizes.every((s) => s.width > 0 && s.height > 0), `${name}: size-changed reports width and height: ${JSON.stringify(sizes)}`);
  check(hostLog.every((m) => m && m.jsonrpc === "2.0"), `${name}: every message is JSON-RPC 2.0`);
}

// ---- Scenario: a category and a measure (bars), sorting, themes, teardown --------------------
async function priority(context, s) {
  const { page, frame } = await openHost(context, s);
  await handshake(page, s.name);
  let c = await chartState(frame);
  observed[s.name] = c;
  check(c.rows === s.expect.rows, `${s.name}: the table shows ${s.expect.rows} rows, not ${c.rows}`);
  check(c.kind === "bar" && c.total === s.expect.rows, `${s.name}: one bar per row: ${JSON.stringify(c)}`);
  await a11y(frame, s.name);
  const headers = await frame.locator("#table thead th").allTextContents();
  check(s.expect.columns.every((n, i) => headers[i] && headers[i].startsWith(n)), `${s.name}: the headings name the columns: ${headers}`);
  const align = await frame.evaluate(() => [...document.querySelectorAll("#table tbody tr:first-child td")].map((td) => getComputedStyle(td).textAlign));
  check(align[0] !== "right" && align[1] === "right", `${s.name}: text left, numbers right-aligned: ${align}`);
  check(await frame.locator("#more-button").count() === 0, `${s.name}: no "more rows" control when every row is shown`);
  await shot(page, "priority-light");

  // Sorting by the count: ascending, descending, back to the result order; bars follow.
  const original = await columnValues(frame, 1);
  const button = frame.locator('th button[data-column="1"]');
  await button.click();
  const asc = (await columnValues(frame, 1)).map(asNumber);
  check(asc.every((v, i) => i === 0 || asc[i - 1] <= v), `${s.name}: ascending sort: ${asc}`);
  check(await frame.locator("th").nth(1).getAttribute("aria-sort") === "ascending", `${s.name}: aria-sort=ascending`);
  const firstRow = await frame.locator("#table tbody tr").first().getAttribute("data-row");
  const firstBar = await frame.evaluate(() => {
    const bars = [...document.querySelectorAll("#chart .mark")];
    bars.sort((a, b) => a.getAttribute("y") - b.getAttribute("y"));
    return bars[0].getAttribute("data-row");
  });
  check(firstRow === firstBar, `${s.name}: the bars follow the table's order (${firstRow} vs ${firstBar})`);
  await button.press("Enter"); // the keyboard sorts too
  const desc = (await columnValues(frame, 1)).map(asNumber);
  check(desc.every((v, i) => i === 0 || desc[i - 1] >= v), `${s.name}: descending sort with the keyboard: ${desc}`);
  check(await frame.locator("th").nth(1).getAttribute("aria-sort") === "descending", `${s.name}: aria-sort=descending`);
  await button.press(" ");
  check(JSON.stringify(await columnValues(frame, 1)) === JSON.stringify(original), `${s.name}: a third press restores the result order`);
  await frame.locator('th button[data-column="0"]').click();
  const labels = await columnValues(frame, 0);
  check(JSON.stringify(labels) === JSON.stringify([...labels].sort()), `${s.name}: text sorts as text: ${labels}`);

  // The host's theme.
  const bg = () => frame.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const light = await bg();
  await page.evaluate(() => { document.body.className = "dark"; window.hostNotify("ui/notifications/host-context-changed", { theme: "dark" }); });
  await until(`${s.name}: the dark theme`, async () => (await bg()) !== light);
  const dark = await bg();
  const luminance = (rgb) => { const [r, g, b] = rgb.match(/\d+/g).map(Number); return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255; };
  check(luminance(light) > 0.8 && luminance(dark) < 0.2, `${s.name}: light ${light}, dark ${dark}`);
  const ink = await frame.evaluate(() => getComputedStyle(document.querySelector("#chart .mark")).fill);
  check(ink !== "rgb(37, 99, 235)", `${s.name}: the marks take the dark palette (${ink})`);
  await shot(page, "priority-dark");

  // Teardown: the view answers the request.
  const answer = await page.evaluate(() => window.hostRequest("ui/resource-teardown", { reason: "test" }));
  check(answer && answer.result && !answer.error, `${s.name}: ui/resource-teardown answered: ${JSON.stringify(answer)}`);
  await page.close();
}

// ---- Scenario: a monthly series (lines, a scatter), further pages through get_sql_result ----
async function monthly(context, s) {
  const { page, frame } = await openHost(context, s, { context: { theme: "dark" } });
  await handshake(page, s.name);
  let c = await chartState(frame);
  check(c.rows === s.expect.rows, `${s.name}: the table shows the first ${s.expect.rows} rows, not ${c.rows}`);
  check(JSON.stringify(c.kinds) === JSON.stringify(s.expect.kinds), `${s.name}: the charts that fit: ${c.kinds}, Rust: ${s.expect.kinds}`);
  check(c.kind === "line" && Object.values(c.marks).every((n) => n === s.expect.rows), `${s.name}: one point per row and series: ${JSON.stringify(c)}`);
  const summary = await frame.locator("#summary").textContent();
  check(summary.includes(String(s.expect.total)), `${s.name}: the total row count (${s.expect.total}) is shown: ${summary}`);
  await a11y(frame, s.name);
  await shot(page, "monthly-line");

  await frame.locator('#switch button[data-kind="scatter"]').click();
  c = await chartState(frame);
  check(c.kind === "scatter" && c.total === s.expect.rows, `${s.name}: the scatter has one point per row: ${JSON.stringify(c)}`);
  check(await frame.locator('#switch button[data-kind="scatter"]').getAttribute("aria-pressed") === "true", `${s.name}: the switch shows the chosen chart`);
  await shot(page, "monthly-scatter");
  await frame.locator('#switch button[data-kind="none"]').click();
  check(await frame.locator("#chart svg").count() === 0, `${s.name}: "No chart" hides the chart`);
  await frame.locator('#switch button[data-kind="line"]').click();

  // More rows until the result is complete.
  for (let round = 0; round < 20 && (await frame.locator("#more-button").count()) > 0; round++) {
    const before = (await chartState(frame)).rows;
    const calls = () => page.evaluate(() => window.hostLog.filter((m) => m.method === "tools/call").length);
    const sent = await calls();
    await frame.locator("#more-button").click();
    // The chart was just switched back on, so the host may still be growing the frame:
    // a click can land where the button was. One more click if no call left.
    if (!(await eventually(async () => (await calls()) > sent, 5000))) {
      log(`${s.name}: the "more rows" click sent no call; clicking again`);
      await frame.locator("#more-button").click();
    }
    await until(`${s.name}: more rows`, async () => (await chartState(frame)).rows > before, 60000);
  }
  const hostLog = await page.evaluate(() => window.hostLog);
  const pages = hostLog.filter((m) => m.method === "tools/call");
  check(pages.length > 0 && pages.every((m) => m.params.name === "get_sql_result" && m.params.arguments.statement_id === s.expect.statementId),
    `${s.name}: "more rows" calls get_sql_result with the statement id: ${JSON.stringify(pages.map((m) => m.params))}`);
  check(pages.length > 0 && pages[0].params.arguments.offset === s.expect.rows, `${s.name}: the first page starts at offset ${s.expect.rows}`);
  c = await chartState(frame);
  observed[s.name] = c;
  check(c.rows === s.expect.total, `${s.name}: all ${s.expect.total} rows loaded, not ${c.rows}`);
  check(Object.values(c.marks).every((n) => n === s.expect.total), `${s.name}: one point per row and series after paging: ${JSON.stringify(c)}`);
  await shot(page, "monthly-all-rows");
  await page.close();
}

// ---- Scenario: the managed surface's Statement Execution shape ----------------------------
async function managed(context, s) {
  const { page, frame } = await openHost(context, s);
  await handshake(page, s.name);
  const c = await chartState(frame);
  observed[s.name] = c;
  check(c.rows === s.expect.rows && c.kind === s.expect.kinds[0] && c.total === s.expect.rows, `${s.name}: ${JSON.stringify(c)} vs ${JSON.stringify(s.expect)}`);
  check(JSON.stringify(c.kinds) === JSON.stringify(s.expect.kinds), `${s.name}: the charts that fit: ${c.kinds}, Rust: ${s.expect.kinds}`);
  const align = await frame.evaluate(() => [...document.querySelectorAll("#table tbody tr:first-child td")].map((td) => getComputedStyle(td).textAlign));
  check(align[1] === "right" && align[2] === "right", `${s.name}: text cells of number columns are right-aligned: ${align}`);
  await shot(page, "managed");
  await page.close();
}

// ---- Standalone pages, offline: the CLI's files and the chart-choice fixtures ----------------
async function standalone(context, name, file) {
  const page = await context.newPage();
  page.on("pageerror", (e) => check(false, `${name}: page error: ${e}`));
  await page.goto(pathToFileURL(file).href);
  await until(`${name}: rendered`, async () => (await page.locator("#summary").textContent()) || (await page.locator("#status").textContent()));
  return page;
}
async function allKinds(page) {
  const first = await chartState(page);
  const result = { kind: first.kind, kinds: first.kinds, marks: {}, rows: first.rows };
  if (first.kind) result.marks[first.kind] = first.total;
  for (const k of first.kinds.slice(1)) {
    await page.locator(`#switch button[data-kind="${k}"]`).click();
    result.marks[k] = (await chartState(page)).total;
  }
  return result;
}

async function main() {
  const browser = await chromium.launch({ executablePath: config.chromium, args: ["--no-sandbox"] });
  const requests = [];
  const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
  // Every request of every page and frame is recorded; none may leave the machine.
  context.on("request", (r) => requests.push(r.url()));
  await context.route("**/*", (route) => {
    const url = route.request().url();
    return url.startsWith("file:") ? route.continue() : route.abort();
  });

  for (const s of config.scenarios) {
    log("scenario", s.name);
    if (s.name === "priority") await priority(context, s);
    else if (s.name === "monthly") await monthly(context, s);
    else await managed(context, s);
  }
  check(requests.length === 0, `the host pages made no request: ${JSON.stringify(requests)}`);

  // Offline: the CLI's --view pages and --chart files, then one page per fixture.
  await context.setOffline(true);
  requests.length = 0;
  const opened = [];
  for (const cli of config.cli) {
    const page = await standalone(context, cli.name, cli.view);
    opened.push(pathToFileURL(cli.view).href);
    const c = await chartState(page);
    observed["cli-" + cli.name] = c;
    check(c.rows === cli.expect.rows && c.kind === cli.expect.kind && c.total === cli.expect.marks,
      `cli ${cli.name}: the --view page renders offline: ${JSON.stringify(c)} vs ${JSON.stringify(cli.expect)}`);
    const more = page.locator("#more-button");
    if (await more.count()) check(await more.isDisabled(), `cli ${cli.name}: "more rows" is disabled in a standalone page`);
    await shot(page, `cli-${cli.name}-view`);
    await page.close();

    const svg = await context.newPage();
    await svg.goto(pathToFileURL(cli.chart).href);
    opened.push(pathToFileURL(cli.chart).href);
    const parsed = await svg.evaluate(() => ({
      root: document.documentElement.localName,
      ns: document.documentElement.namespaceURI,
      errors: document.getElementsByTagName("parsererror").length,
      kind: document.documentElement.getAttribute("data-kind"),
      marks: document.querySelectorAll(".mark").length,
      role: document.documentElement.getAttribute("role"),
      title: (document.querySelector("title") || {}).textContent,
    }));
    check(parsed.root === "svg" && parsed.ns === "http://www.w3.org/2000/svg" && parsed.errors === 0,
      `cli ${cli.name}: the --chart file parses as SVG: ${JSON.stringify(parsed)}`);
    check(parsed.kind === cli.expect.kind && parsed.marks === cli.expect.marks && parsed.role === "img" && parsed.title,
      `cli ${cli.name}: the --chart file draws the view's chart: ${JSON.stringify(parsed)} vs ${JSON.stringify(cli.expect)}`);
    await svg.screenshot({ path: join(config.artifacts, `cli-${cli.name}-chart.png`) });
    await svg.close();
  }

  const fixtures = {};
  for (const f of config.fixtures) {
    const page = await standalone(context, f.name, f.page);
    opened.push(pathToFileURL(f.page).href);
    fixtures[f.name] = await allKinds(page);
    await page.close();
  }
  const strays = requests.filter((u) => !opened.includes(u));
  check(strays.length === 0, `the standalone pages made no request but their own file: ${JSON.stringify(strays)}`);
  await browser.close();
  process.stdout.write(JSON.stringify({ type: "report", ok: failures.length === 0, failures, observed, fixtures }) + "\n");
}

main().catch((e) => {
  failures.push(String((e && e.stack) || e));
  process.stdout.write(JSON.stringify({ type: "report", ok: false, failures, observed, fixtures: {} }) + "\n");
}).finally(() => {
  input.close();
  setTimeout(() => process.exit(0), 100);
});
