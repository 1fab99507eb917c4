// Headless Chromium against a running `http2_echo` example: the page loads
// over HTTP/2 (its navigation's nextHopProtocol is "h2"), its WebSocket is
// one the server saw arrive as an HTTP/2 stream (the server's first
// message says "HTTP/2"), and a message comes back through it. The
// certificate is the example's self-signed one, hence
// --ignore-certificate-errors. Usage:
//
//     node http2.mjs https://127.0.0.1:PORT/
//
// Exits 0 when all of that held, 1 otherwise; gives up after 60 s.
import { chromium } from "playwright-core";

const base = process.argv[2];
if (!base) {
  console.error("usage: node http2.mjs https://127.0.0.1:PORT/");
  process.exit(2);
}
const LIMIT_MS = 60_000;
const WAIT_MS = 10_000;
setTimeout(() => {
  console.error(`http2.mjs: not done after ${LIMIT_MS / 1000} s`);
  process.exit(1);
}, LIMIT_MS).unref();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--ignore-certificate-errors",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const errors = [];
let failed = false;
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on("console", msg => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", err => errors.push(err.message));
  await page.goto(base);
  await page.locator("#echo", { hasText: "ping over the WebSocket" }).waitFor({ timeout: WAIT_MS });
  const loaded = await page.locator("#page").textContent();
  const version = await page.locator("#version").textContent();
  console.log(`http2.mjs: page over ${loaded}, WebSocket over ${version}, echo received`);
  if (loaded !== "h2") throw new Error(`the page came over ${loaded}, not h2`);
  if (version !== "HTTP/2") throw new Error(`the server saw the WebSocket over ${version}, not HTTP/2`);
  if (errors.length) throw new Error(`errors in the page:\n  ${errors.join("\n  ")}`);
} catch (err) {
  console.error(`http2.mjs: ${err.message}`);
  failed = true;
} finally {
  await browser.close();
}
if (failed) process.exit(1);
console.log("http2.mjs: passed");
