/**
 * npm run mouth-targets -- [--data DIR] --split FER2013Train|FER2013Valid [--teacher facemesh|landmark68]
 * Runs the landmark teacher once over a split's whole faces and caches the mouth targets and their
 * validity mask under .cache/mouth/ (tools/mouth/targets.ts); a cache that still matches is reused.
 */
import { Command } from 'commander';
import { selectBackend } from '../backend/select.js';
import { parseSplit, resolveDataDir } from '../data/ferplus.js';
import { addBackendOptions, addDataOption } from './options.js';
import { runCli } from './run-cli.js';
import { DEFAULT_TEACHER, defaultMouthCacheDir, ensureSplitTargets } from '../mouth/targets.js';
import { TEACHER_NAMES, parseTeacher } from '../mouth/teachers.js';

const program = addBackendOptions(addDataOption(new Command()
  .name('mouth-targets')
  .requiredOption('--split <name>', 'FER2013Train | FER2013Valid | FER2013Test'))
  .option('--teacher <name>', TEACHER_NAMES.join(' | '), DEFAULT_TEACHER)
  .option('--cache <dir>', 'cache folder', defaultMouthCacheDir()), { threads: true });

runCli(async () => {
  program.parse();
  const o = program.opts();
  const split = parseSplit(o.split);
  const teacher = parseTeacher(o.teacher);
  const dataDir = resolveDataDir(o.data);
  const backend = await selectBackend(o.backend, o.threads ?? 1);
  const started = Date.now();
  const tty = process.stderr.isTTY;
  const { header, cached } = await ensureSplitTargets(dataDir, split, {
    teacher, cacheDir: o.cache, log: (m) => console.log(m),
    progress: (done, total, missing) => {
      const ms = (Date.now() - started) / done;
      const eta = Math.round((ms * (total - done)) / 60000);
      const line = `${split}: ${done}/${total} faces (${((100 * done) / total).toFixed(1)}%), ${ms.toFixed(0)} ms/face, ${missing} missing, ~${eta} min left`;
      process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
    },
  });
  if (tty && !cached) process.stderr.write('\n');
  const reasons = Object.entries(header.reasons).sort((a, b) => b[1] - a[1]).map(([r, c]) => `${r} ${c}`).join(', ');
  console.log(`${split}: ${header.n} faces, ${header.missing} missing (${((100 * header.missing) / header.n).toFixed(1)}%${reasons ? `: ${reasons}` : ''}), teacher ${header.teacher} on ${backend.name}${cached ? ', from the cache' : ''}`);
  console.log(`cache ${o.cache}/${split}-${header.contentHash}.{json,bin}, fingerprint ${header.fingerprint}`);
});
