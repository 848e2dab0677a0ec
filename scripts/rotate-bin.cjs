#!/usr/bin/env -S node --
// The bin, copied to dist/bin/rotate.js by bundle.mjs: runs the bundle (cli.js).
'use strict';
require('./cli.js');
