#!/usr/bin/env node
// Runs the TypeScript sources through tsx so `npx qrgate` works right after `npm install`,
// with no build step. On a device, run the compiled `node dist/cli/main.js` instead:
// tsx costs start-up time and memory a Raspberry Pi should not pay (docs/deploy.md).
import { register } from 'tsx/esm/api';

register();
// cli/main.ts runs itself only when it is the script node was given; here this file is.
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
