'use strict';
const test = require('node:test');
const assert = require('node:assert');
const isNumber = require('is-number');
const { greeting } = require('../lib/greeting');

test('greeting says Hello', () => {
  assert.match(greeting(), /Hello/);
  assert.ok(isNumber(42));
});
