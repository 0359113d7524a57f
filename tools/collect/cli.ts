/**
 * npm run collect -- --db study.sqlite --token-file study.token [--port 8787] [--host 127.0.0.1]
 *   Runs the collection server (see docs/research.md). Logs one JSON object per line on stdout.
 * npm run collect -- export --db study.sqlite --out export-dir [--study ID]
 *   Writes sessions.csv, samples.csv, markers.csv, responses.csv and json/<session>.json.
 * npm run collect -- new-token --out study.token [--study ID]
 *   Writes a fresh random token to a new token file (mode 0600). Without --out it prints the token;
 *   do not redirect `npm run` into a file: npm writes its banner lines there too.
 */
import { Command, InvalidArgumentError } from 'commander';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { exportStudy } from './export.js';
import { createCollectServer, DEFAULT_MAX_BODY_BYTES, listen, parseTokenFile } from './server.js';
import { StudyStore } from './store.js';

function integer(name: string, min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
    return n;
  };
}

const log = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), ...event })}\n`);

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

const program = new Command().name('collect').description('halfface study collection server');

program.command('serve', { isDefault: true })
  .description('receive uploads from headsets and store them in SQLite')
  .requiredOption('--db <file>', 'SQLite database file (created if missing)')
  .requiredOption('--token-file <file>', 'bearer token(s): "<token>" or "<studyId> <token>" per line')
  .option('--host <address>', 'address to bind; 0.0.0.0 exposes the server to the network', '127.0.0.1')
  .option('--port <n>', 'TCP port (0 = any free one)', integer('--port', 0, 65535), 8787)
  .option('--max-body-bytes <n>', 'largest accepted upload', integer('--max-body-bytes', 1024, 1 << 30), DEFAULT_MAX_BODY_BYTES)
  .option('--allow-origin <origin>', 'CORS Access-Control-Allow-Origin', '*')
  .option('--quiet', 'log only start, stop and refused uploads')
  .action(async (o) => {
    if (!existsSync(o.tokenFile)) fail(`token file ${o.tokenFile} does not exist (make one with: npm run collect -- new-token --out ${o.tokenFile})`);
    let tokens;
    try {
      tokens = parseTokenFile(readFileSync(o.tokenFile, 'utf8'));
    } catch (e) {
      fail(`${o.tokenFile}: ${(e as Error).message}`);
    }
    const mode = statSync(o.tokenFile).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      log({ event: 'warning', message: `token file ${o.tokenFile} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${o.tokenFile}` });
    }
    const store = new StudyStore(o.db);
    const server = createCollectServer({
      store, tokens, maxBodyBytes: o.maxBodyBytes, allowOrigin: o.allowOrigin,
      log: o.quiet ? (e) => { if (e.event !== 'request' && e.event !== 'upload') log(e); } : log,
    });
    let url: string;
    try {
      url = await listen(server, o.host, o.port);
    } catch (e) {
      store.close();
      fail(`cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`);
    }
    log({ event: 'listening', url, db: o.db, studies: tokens.map((t) => t.studyId) });
    const shutdown = (signal: string) => {
      log({ event: 'stopping', signal });
      server.close(() => {
        store.close();
        process.exit(0);
      });
      server.closeAllConnections();
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });

program.command('export')
  .description('write the stored sessions as CSV tables and JSON recordings')
  .requiredOption('--db <file>', 'SQLite database file')
  .requiredOption('--out <dir>', 'output folder')
  .option('--study <id>', 'only this study (default: all)')
  .action((o) => {
    if (!existsSync(o.db)) fail(`database ${o.db} does not exist`);
    const store = new StudyStore(o.db);
    try {
      const summary = exportStudy(store, o.out, o.study);
      console.log(`exported ${summary.sessions} session(s), ${summary.samples} sample(s) to ${o.out}`);
    } finally {
      store.close();
    }
  });

program.command('new-token')
  .description('a random 32-byte token (hex): written to a new file with --out, else printed')
  .option('--out <file>', 'create this token file (mode 0600); refuses to overwrite one')
  .option('--study <id>', 'write the line as "<studyId> <token>"')
  .action((o) => {
    const token = randomBytes(32).toString('hex');
    const line = o.study === undefined ? `${token}\n` : `${o.study} ${token}\n`;
    // The line must read back: a bad --study is refused now, not when the server starts.
    try {
      parseTokenFile(line);
    } catch (e) {
      fail((e as Error).message.replace(/^token file line 1: /, ''));
    }
    if (o.out === undefined) {
      process.stdout.write(line);
      return;
    }
    try {
      // 'wx': a token file a study already hands out is never replaced by accident.
      writeFileSync(o.out, line, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fail(code === 'EEXIST' ? `${o.out} already exists; delete it or choose another name` : `cannot write ${o.out}: ${(e as Error).message}`);
    }
    console.error(`wrote a new token to ${o.out} (readable by you only)`);
  });

program.parseAsync().catch((e: Error) => fail(e.message));
