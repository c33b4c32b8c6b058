// Open DIR/report.html in Debian's headless Chromium as a person would, and check it:
// - no console error, no page error, no request other than file: and data: (the page must be
//   complete offline);
// - the numbers shown (per DUT and per sub-case: iterations, passed, failed, flaky, errors,
//   bricked, success rate; the totals line) equal those in DIR/summary.json;
// - every chart is an SVG that is present, drawn (has shapes) and has a visible size;
// then save a full-page screenshot to DIR/report.png.
//
// Usage: PAGE_TEST_MODULES=DIR_WITH_node_modules node check-report.mjs CAMPAIGN_DIR
// (scripts/report-page-test.sh sets it up).

import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: check-report.mjs CAMPAIGN_DIR (holding report.html and summary.json)");
  process.exit(2);
}
const modules = process.env.PAGE_TEST_MODULES;
if (!modules) {
  console.error("PAGE_TEST_MODULES is not set: run scripts/report-page-test.sh");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "package.json"));
const { chromium } = require("playwright-core");

const reportPath = path.resolve(dir, "report.html");
const summary = JSON.parse(readFileSync(path.resolve(dir, "summary.json"), "utf8"));
const problems = [];
const problem = (msg) => problems.push(msg);

const profile = mkdtempSync(path.join(tmpdir(), "rig-page-test-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  timeout: 60_000,
  viewport: { width: 1360, height: 900 },
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on("console", (m) => {
    if (m.type() === "error") problem(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problem(`page error: ${e.message}`));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith("file:") && !url.startsWith("data:")) problem(`network request: ${url}`);
  });
  page.on("requestfailed", (r) => problem(`request failed: ${r.url()} (${r.failure()?.errorText})`));

  await page.goto(pathToFileURL(reportPath).href, { waitUntil: "load" });

  // What the page shows, read off the DOM.
  const shown = await page.evaluate(() => {
    const rows = (table) =>
      [...document.querySelectorAll(`${table} tbody tr`)].map((tr) => {
        const cells = {};
        for (const td of tr.querySelectorAll("td[data-k]")) {
          const rate = td.querySelector(".rate");
          cells[td.dataset.k] = (rate ?? td).textContent.trim();
        }
        return { bench: tr.dataset.bench, dut: tr.dataset.dut, subCase: tr.dataset.subCase, cells };
      });
    const charts = [...document.querySelectorAll("figure.chart")].map((f) => {
      const svg = f.querySelector("svg");
      const box = svg?.getBoundingClientRect();
      return {
        chart: f.dataset.chart,
        svg: !!svg,
        shapes: svg ? svg.querySelectorAll("rect, line, polyline, polygon, circle, path").length : 0,
        width: box?.width ?? 0,
        height: box?.height ?? 0,
      };
    });
    const totals = [...document.querySelectorAll("#totals strong")].map((s) => s.textContent.trim());
    return { duts: rows("#dut-table"), groups: rows("#case-table"), charts, totals };
  });

  const int = (s) => (/^\d+$/.test(s ?? "") ? Number(s) : NaN);
  // "66.7%" against 0.6667: equal to the shown precision.
  const pctMatches = (text, rate) => {
    const m = /^(\d+(?:\.(\d+))?)%$/.exec(text ?? "");
    if (!m) return false;
    const decimals = m[2]?.length ?? 0;
    return Math.abs(Number(m[1]) - rate * 100) <= 0.5 * 10 ** -decimals + 1e-9;
  };
  const compare = (what, expected, rows, keyOf) => {
    if (rows.length !== expected.length) {
      problem(`${what}: ${rows.length} rows shown, summary.json has ${expected.length}`);
    }
    for (const e of expected) {
      const key = keyOf(e);
      const row = rows.find((r) => keyOf({ bench: r.bench, dut: r.dut, sub_case: r.subCase }) === key);
      if (!row) {
        problem(`${what} ${key}: no row`);
        continue;
      }
      for (const k of ["iterations", "passed", "failed", "flaky", "errors"]) {
        if (int(row.cells[k]) !== e[k]) problem(`${what} ${key}: ${k} shows "${row.cells[k]}", summary.json has ${e[k]}`);
      }
      const bricked = int((row.cells.bricked ?? "").split(/\s/)[0]);
      if (bricked !== e.bricked) problem(`${what} ${key}: bricked shows "${row.cells.bricked}", summary.json has ${e.bricked}`);
      if (e.success) {
        if (!pctMatches(row.cells.success, e.success.rate)) {
          problem(`${what} ${key}: success shows "${row.cells.success}", summary.json has ${e.success.rate}`);
        }
      } else if (row.cells.success !== "–") {
        problem(`${what} ${key}: success shows "${row.cells.success}" without device iterations`);
      }
    }
  };
  compare("DUT", summary.duts ?? [], shown.duts, (e) => `${e.bench}/${e.dut}`);
  compare("sub-case", summary.groups ?? [], shown.groups, (e) => `${e.sub_case} on ${e.bench}/${e.dut}`);

  const t = summary.totals;
  const totals = [t.iterations, t.passed, t.failed, t.flaky, t.errors, t.bricked].map(String);
  if (JSON.stringify(shown.totals) !== JSON.stringify(totals)) {
    problem(`totals show ${shown.totals.join(", ")}, summary.json has ${totals.join(", ")}`);
  }

  const required = t.iterations > 0 ? ["outcomes", "timeline", "update-duration", "throughput"] : [];
  for (const name of required) {
    if (!shown.charts.some((c) => c.chart === name)) problem(`chart ${name}: missing`);
  }
  for (const c of shown.charts) {
    if (!c.svg) problem(`chart ${c.chart}: no SVG`);
    else if (c.shapes === 0) problem(`chart ${c.chart}: empty SVG (no shapes)`);
    else if (c.width < 50 || c.height < 30) problem(`chart ${c.chart}: SVG too small to see (${c.width}x${c.height})`);
  }

  const png = path.resolve(dir, "report.png");
  await page.screenshot({ path: png, fullPage: true });

  if (problems.length) {
    console.error(`report page test FAILED (${reportPath}):`);
    for (const p of problems) console.error(`  - ${p}`);
    console.error(`screenshot: ${png}`);
    process.exitCode = 1;
  } else {
    const byChart = {};
    for (const c of shown.charts) byChart[c.chart] = (byChart[c.chart] ?? 0) + 1;
    console.log(
      `report page ok: ${shown.duts.length} DUT rows and ${shown.groups.length} sub-case rows match summary.json; ` +
        `charts ${Object.entries(byChart).map(([k, n]) => `${k} x${n}`).join(", ")}; no console errors, no network; ` +
        `screenshot ${png}`,
    );
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
