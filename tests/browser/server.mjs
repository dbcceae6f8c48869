// Starts `kontor demo` on a free port in a fresh temporary folder and stops it again.
//
// The binary comes from $KONTOR_BIN (default: ${CARGO_TARGET_DIR:-target}/debug/kontor, relative
// to the repository root). The demo prints `Kontor demo is running at http://127.0.0.1:PORT` as
// the first line on stdout once it listens; seeding the demo data can take a while on a debug
// build, so we wait up to 60 s for it.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

export function kontorBin() {
  if (process.env.KONTOR_BIN) return path.resolve(process.env.KONTOR_BIN);
  const target = process.env.CARGO_TARGET_DIR || 'target';
  return path.resolve(repoRoot, target, 'debug', 'kontor');
}

/**
 * Starts the demo server. Resolves to `{ url, stop, log, output, logins }`; `stop()` ends the
 * process (SIGTERM, then SIGKILL after 5 s) and removes the data folder. The server's stderr
 * goes to `logFile`; `output()` is everything it printed on stdout so far; `logins()` waits for
 * the demo's list of logins (up to the `Press Ctrl-C` line) and returns it as
 * `[{ role, email }]`, in the order printed. `args` go to `kontor demo` after the defaults (e.g.
 * `['--database-url', url]`).
 */
export async function startDemo({ logFile, startupMs = 60_000, args = [] } = {}) {
  const bin = kontorBin();
  if (!existsSync(bin)) {
    throw new Error(
      `kontor binary not found at ${bin}: build it (cargo build -p kontor) or set KONTOR_BIN`,
    );
  }
  const data = mkdtempSync(path.join(tmpdir(), 'kontor-e2e-'));
  const child = spawn(bin, ['demo', '--data', path.join(data, 'demo'), '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const log = logFile ? createWriteStream(logFile) : null;
  let stderrLog = ''; // the whole server log, for tests that look for a known error
  child.stderr.on('data', (chunk) => {
    log?.write(chunk);
    stderrLog += chunk.toString();
  });
  const stderrTail = () => stderrLog.slice(-4000);

  let exited = false;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  // A safety net: never leave the server behind, even if the test process dies abruptly.
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  };
  const onSignal = (signal) => {
    killOnExit();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', killOnExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const stop = async () => {
    process.off('exit', killOnExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 5_000);
      await exitPromise;
      clearTimeout(timer);
    }
    log?.end();
    rmSync(data, { recursive: true, force: true });
  };

  let stdout = '';
  let stdoutWaiters = [];
  const waitForStdout = async (re, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!re.test(stdout)) {
      if (exited) throw new Error(`kontor demo exited before printing ${re}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`kontor demo did not print ${re} within ${ms} ms:\n${stdout}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        stdoutWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  // The lines between "Demo logins" and "Press Ctrl-C": a role, two or more spaces, an e-mail.
  const logins = async () => {
    await waitForStdout(/Press Ctrl-C/);
    return stdout
      .split('\n')
      .map((line) => /^\s+(\S.*?)\s{2,}(\S+@\S+)\s*$/.exec(line))
      .filter(Boolean)
      .map((m) => ({ role: m[1], email: m[2] }));
  };
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`kontor demo did not report its URL within ${startupMs} ms\n${stderrTail()}`)),
        startupMs,
      );
      child.stdout.on('data', (chunk) => {
        log?.write(chunk);
        stdout += chunk.toString();
        stdoutWaiters.splice(0).forEach((wake) => wake());
        const newline = stdout.indexOf('\n');
        if (newline < 0) return;
        const first = stdout.slice(0, newline);
        const m = /Kontor demo is running at (http:\/\/\S+)/.exec(first);
        clearTimeout(timer);
        if (m) resolve(m[1].replace(/\/$/, ''));
        else reject(new Error(`unexpected first line from kontor demo: ${first}`));
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      exitPromise.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`kontor demo exited early (code ${code}, signal ${signal})\n${stderrTail()}`));
      });
    });
    return { url, stop, log: () => stderrLog, output: () => stdout, logins };
  } catch (e) {
    await stop();
    throw e;
  }
}
