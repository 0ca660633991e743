// Lets a child Node process run the TypeScript sources the way jest does (swc, legacy decorators with
// metadata), for tests that need the app in a process of its own (kill -9). Usage:
//   fork('test/support/app-process.ts', { execArgv: ['--import', './test/support/ts-loader.mjs'] })
import { register } from 'node:module';

register('./ts-loader-hooks.mjs', import.meta.url);
