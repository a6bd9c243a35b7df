'use strict';
const stripe = require('stripe')('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');
module.exports = stripe;
