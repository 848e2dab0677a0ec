import { afterAll } from 'vitest';
import { removeScratchDirs } from './helpers/cli.js';

afterAll(() => removeScratchDirs());
