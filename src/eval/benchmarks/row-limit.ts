/**
 * The longest row (a JSON line, a JSON array element) a loader reads, in characters. Real benchmark rows
 * are at most a few hundred kilobytes; past this a "row" is a device or a broken file, refused as bad input
 * before it takes the process's memory.
 */
export const MAX_ROW_CHARS = 64 * 1024 * 1024;
