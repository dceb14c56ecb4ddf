// Compares one run of the MCP conformance suite (`conformance server --requirements REV -o DIR`)
// with the expected failures listed for that revision; used by scripts/conformance.sh.
//
//   node compare.mjs REVISION RESULTS_DIR RUN_LOG EXPECTED_FAILURES_FILE
//
// RESULTS_DIR holds one `server-<scenario>-<timestamp>/checks.json` per scenario; RUN_LOG is
// the suite's stdout, whose "=== Running scenario: X ===" lines say which scenarios ran (a
// scenario that ran but left no checks.json counts as failed).
//
// An entry of the expected-failures file is `<revision> <scenario>` (every failing check of
// the scenario is excused) or `<revision> <scenario>:<check-id>` (only that check), then
// optionally `# reason`. Lines that are blank or start with # are comments.
//
// Prints every unexpected failure and every stale entry (an expected failure that no
// longer fails, or names a scenario this revision does not run), then one summary line.
// Exit status: 0 when the run matches the list exactly, 1 otherwise, 2 on bad input.
import fs from "node:fs";
import path from "node:path";

const [revision, resultsDir, runLog, expectedFile] = process.argv.slice(2);
if (!expectedFile) {
  console.error("usage: node compare.mjs REVISION RESULTS_DIR RUN_LOG EXPECTED_FAILURES_FILE");
  process.exit(2);
}
const listName = path.basename(expectedFile);

// --- The expected failures of this revision ---------------------------------------------
const wholesale = new Map(); // scenario -> line number
const perCheck = new Map(); // "scenario:check" -> line number
let badLines = 0;
fs.readFileSync(expectedFile, "utf8").split("\n").forEach((raw, i) => {
  const line = raw.replace(/#.*/, "").trim();
  if (!line) return;
  const fields = line.split(/\s+/);
  if (fields.length !== 2 || !/^\d{4}-\d{2}-\d{2}$/.test(fields[0])) {
    console.error(`${listName}:${i + 1}: want "<revision> <scenario>[:<check-id>]  # reason", got: ${raw}`);
    badLines++;
    return;
  }
  const [rev, target] = fields;
  if (rev !== revision) return;
  const into = target.includes(":") ? perCheck : wholesale;
  if (into.has(target)) {
    console.error(`${listName}:${i + 1}: ${rev} ${target} is listed twice`);
    badLines++;
  }
  into.set(target, i + 1);
});
for (const key of perCheck.keys()) {
  const scenario = key.split(":")[0];
  if (wholesale.has(scenario)) {
    console.error(`${listName}:${perCheck.get(key)}: ${revision} ${key}: the scenario is also listed as a whole`);
    badLines++;
  }
}
if (badLines) process.exit(2);

// --- What the suite ran and found ---------------------------------------------------------
const log = fs.readFileSync(runLog, "utf8");
const ran = [...log.matchAll(/^=== Running scenario: (\S+) ===$/gm)].map((m) => m[1]);
if (ran.length === 0) {
  console.error(`${revision}: the suite ran no scenario; see ${runLog}`);
  process.exit(1);
}
const checksFile = new Map();
for (const entry of fs.existsSync(resultsDir) ? fs.readdirSync(resultsDir) : []) {
  const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
  const file = path.join(resultsDir, entry, "checks.json");
  if (m && fs.existsSync(file)) checksFile.set(m[1], file);
}

// Per scenario, one verdict per check id, most severe first: an id may repeat (a loop in
// the scenario), and then all its occurrences stand or fall together. The counts in the
// summary are of occurrences, as in the suite's own "Total:" line.
const severity = { FAILURE: 3, WARNING: 2, SUCCESS: 1, SKIPPED: 0, INFO: -1 };
const scenarios = new Map(); // scenario -> Map(checkId -> {status, message, count})
for (const scenario of ran) {
  const checks = new Map();
  const file = checksFile.get(scenario);
  const list = file
    ? JSON.parse(fs.readFileSync(file, "utf8"))
    : [{ id: "results", status: "FAILURE", errorMessage: `no checks.json in ${resultsDir}` }];
  for (const c of list) {
    const prev = checks.get(c.id);
    const count = (prev?.count ?? 0) + 1;
    if (!prev || (severity[c.status] ?? 0) > (severity[prev.status] ?? 0)) {
      checks.set(c.id, { status: c.status, message: c.errorMessage ?? "", count });
    } else {
      prev.count = count;
    }
  }
  scenarios.set(scenario, { checks, list });
}

// --- Comparison ------------------------------------------------------------------------------
const oneLine = (s) => s.replace(/\s+/g, " ").slice(0, 240);
const problems = [];
let checksPassed = 0, checksFailed = 0, checksExpected = 0, warnings = 0;
let scenariosPassed = 0, scenariosExpected = 0;
for (const [scenario, { checks, list }] of scenarios) {
  const isExcused = (id) => wholesale.has(scenario) || perCheck.has(`${scenario}:${id}`);
  for (const c of list) {
    if (c.status === "SUCCESS") checksPassed++;
    if (c.status === "WARNING") warnings++;
    if (c.status === "FAILURE") {
      checksFailed++;
      if (isExcused(c.id)) checksExpected++;
    }
  }
  let failing = 0, excused = 0;
  for (const [id, { status, message }] of checks) {
    if (status === "WARNING") console.log(`  warning     ${revision} ${scenario}:${id}  ${oneLine(message)}`);
    if (status !== "FAILURE") continue;
    failing++;
    if (isExcused(id)) excused++;
    else problems.push(`  UNEXPECTED  ${revision} ${scenario}:${id}  ${oneLine(message)}`);
  }
  if (failing === 0) scenariosPassed++;
  else if (excused === failing) scenariosExpected++; // every failing check is listed

  // Stale entries. A listed check that is absent or skipped is tolerated while the
  // scenario fails otherwise: a scenario that bails out on a failed step never reaches
  // its later checks.
  if (wholesale.has(scenario) && failing === 0) {
    problems.push(`  STALE       ${revision} ${scenario}  no longer fails: remove it from ${listName} (line ${wholesale.get(scenario)})`);
  }
  for (const [key, line] of perCheck) {
    const [s, id] = key.split(/:(.*)/s);
    if (s !== scenario) continue;
    const status = checks.get(id)?.status;
    if (status === "FAILURE" || ((status === undefined || status === "SKIPPED") && failing > 0)) continue;
    problems.push(`  STALE       ${revision} ${key}  no longer fails (${status ?? "not reported"}): remove it from ${listName} (line ${line})`);
  }
}
for (const [target, line] of [...wholesale, ...perCheck]) {
  const scenario = target.split(":")[0];
  if (!scenarios.has(scenario)) {
    problems.push(`  STALE       ${revision} ${target}  this revision runs no scenario ${scenario}: remove it from ${listName} (line ${line})`);
  }
}

problems.forEach((p) => console.log(p));
const failedScenarios = scenarios.size - scenariosPassed;
console.log(
  `${revision}: ${problems.length ? "FAIL" : "ok"} — scenarios: ${scenariosPassed} passed, ` +
    `${failedScenarios} failed (${scenariosExpected} expected); checks: ${checksPassed} passed, ` +
    `${checksFailed} failed (${checksExpected} expected), warnings: ${warnings}` +
    (problems.length ? `; ${problems.length} not as listed in ${listName}` : ""),
);
process.exit(problems.length ? 1 : 0);
