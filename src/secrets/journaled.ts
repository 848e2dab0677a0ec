// The schemas of the rotations kinds keep (`Rotator.journaled`): what the engine checks a rotation read back from
// the store against, once, before any rotator sees it (src/engine/sealing.ts).

import * as z from 'zod/mini';
import type { RotationSchema } from './types.js';

/** Facts a kind does not name pass as they are: they are for the history and the summary. */
export const looseFacts = z.looseObject({});

/** The common shape: the value the rotation replaced and the one it put in place (jwt, random, dotenvx, exchange-key). */
export const oldAndNew = {
  secrets: z.object({ old: z.string(), new: z.string() }),
  facts: looseFacts,
} satisfies RotationSchema;
