// Debian's Chromium as the tests and the screenshot script launch it (flags from the machine notes:
// without the background-networking flags it keeps trying to reach Google's hosts).
export const CHROMIUM = process.env.SYMSEQ_CHROMIUM ?? '/usr/bin/chromium';

/** playwright adds --headless and the user data dir itself. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
