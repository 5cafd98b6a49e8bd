/** The package version, in one module of its own so nothing imports the whole library to read it. */
export const VERSION = "0.1.0";
