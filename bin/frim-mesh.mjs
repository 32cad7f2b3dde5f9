#!/usr/bin/env node
// The CLI is TypeScript; run it through the project's own tsx so there is no separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
