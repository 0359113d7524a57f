/** Runs a CLI's main function: a clear one-line message on a known error, never a bare stack trace. */
export function runCli(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      const err = e as Error;
      const known = ['DataError', 'ModelFileError', 'CommanderError'].includes(err?.name) || err instanceof Error;
      console.error(`error: ${known ? err.message : String(e)}`);
      if (process.env.HALFFACE_DEBUG) console.error(err?.stack);
      process.exit(1);
    },
  );
}
