/**
 * The commands j1 suggests next ("j1 report RUN --html report.html", "j1 eval --resume RUN") must run as
 * printed: they carry the flags needed to find the run (`--store FILE`), quoted for a POSIX shell where
 * the value needs it. Here, in core, so the CLI, eval (shard merges) and the server say them alike.
 */

/** A value as a POSIX shell reads it back unchanged: bare when it is plain, else in single quotes. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** ` --store FILE` when a store is named (the default one needs no flag), else "". */
export function storeFlag(store: string | undefined): string {
  return store === undefined ? "" : ` --store ${shellQuote(store)}`;
}
