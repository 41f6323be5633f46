#!/usr/bin/env node
// Runs the CLI from src/ without a build: tsx compiles on the fly.
import { register } from 'tsx/esm/api';

register();
const { execute } = await import('@oclif/core');
await execute({ development: true, dir: import.meta.url });
