// Drives Debian's Chromium (headless, through playwright-core) against a
// running `strom serve --ui`: the console shows a topic the CLI created, a
// record kcat produced, and a group's lag falling as a consumer catches up.
// Run by tests/console_browser.rs, which starts the broker:
//   node browser.mjs CONSOLE_URL BOOTSTRAP STROM_BIN SCREENSHOT_DIR
import { chromium } from "playwright-core";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";

const [url, bootstrap, strom, shots] = process.argv.slice(2);
if (!shots) {
  console.error("usage: node browser.mjs CONSOLE_URL BOOTSTRAP STROM_BIN SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const cli = (...args) => execFileSync(strom, [...args, "-b", bootstrap], { encoding: "utf8", timeout: 30000 });
const step = async (page, name) => { await page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true }); };

const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20000);
  page.on("pageerror", e => { console.error("page error:", e.message); failed = true; });

  // 1. A topic created by the CLI appears in the topic list.
  cli("topics", "create", "from-cli", "--partitions", "2");
  await page.goto(url + "#/topics");
  await page.locator('#topics tr[data-topic="from-cli"]').waitFor();
  await step(page, "1-topics");

  // 2. A record produced by kcat is found in the message browser.
  execFileSync("kcat", ["-P", "-b", bootstrap, "-t", "from-cli", "-p", "1", "-k", "kcat-key"], { input: '{"made_by":"kcat","n":42}\n', timeout: 30000 });
  await page.goto(url + "#/topics/from-cli");
  await page.locator("#partitions").waitFor();
  await page.click('a[href$="/messages/0"]');
  await page.selectOption('select[name="partition"]', "1");
  await page.fill('input[name="offset"]', "0");
  await page.fill('input[name="filter"]', '.key == "kcat-key"');
  await page.click('#browse button[type="submit"]');
  const record = page.locator("#messages tr.record", { hasText: "kcat-key" });
  await record.waitFor();
  const text = await record.innerText();
  if (!text.includes('"made_by": "kcat"')) throw new Error("the record's value is not shown as JSON: " + text);
  await step(page, "2-message");

  // 3. A group's lag falls as its consumer catches up.
  cli("topics", "create", "work", "--partitions", "1");
  const lines = Array.from({ length: 5000 }, (_, i) => `job ${i}`).join("\n") + "\n";
  execFileSync(strom, ["produce", "-t", "work", "-b", bootstrap], { input: lines, timeout: 30000 });
  cli("consume", "-t", "work", "-g", "workers", "--from-beginning", "--max-messages", "10");
  await page.goto(url + "#/groups/workers");
  const lag = page.locator("#total-lag");
  await page.waitForFunction(() => Number((document.getElementById("total-lag") || {}).textContent?.replace(/,/g, "")) >= 4990);
  const before = Number((await lag.innerText()).replace(/,/g, ""));
  await step(page, "3-lag-before");
  const consumer = spawn(strom, ["consume", "-t", "work", "-g", "workers", "-e", "-b", bootstrap], { stdio: ["ignore", "ignore", "inherit"] });
  // Taken now: the consumer may be done before the lag is seen at 0.
  const exited = new Promise(r => consumer.on("exit", r));
  await page.waitForFunction(() => (document.getElementById("total-lag") || {}).textContent === "0", null, { timeout: 30000 });
  const code = await exited;
  if (code !== 0) throw new Error("the catching-up consumer exited " + code);
  await step(page, "4-lag-after");
  console.log(`lag fell from ${before} to 0`);

  // 4. Live rates arrive over server-sent events.
  await page.goto(url + "#/rates");
  await page.locator("#rates").waitFor();
  await page.waitForFunction(() => document.getElementById("live").textContent.startsWith("live"));
  await step(page, "5-rates");
} catch (e) {
  console.error("browser test failed:", e.message);
  failed = true;
} finally {
  await browser.close();
}
console.log("screenshots in " + shots);
process.exit(failed ? 1 : 0);
