#!/usr/bin/env node
// A small young generation for the main thread: it mostly moves short messages between Redis
// and the workers, and the default semi-spaces are a large share of an idle process's memory.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--max-semi-space-size=2');
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
