'use strict';

// greeting returns the text served at GET /.
function greeting(name) {
  return `Hello from AetherEngine, ${name || 'world'}!`;
}

module.exports = { greeting };
